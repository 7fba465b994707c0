// Secrets certplane uses inside its redis-servers: one random master secret per node (<data-dir>/redis/secret,
// mode 0600), from which the password of each database's admin user and of each certificate user's internal
// redis user are derived (HMAC-SHA256). Nothing here is ever logged or stored in the cluster store.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurably } from './atomic-file.js';

export class RedisSecrets {
  private constructor(private readonly master: Buffer) {}

  static async open(redisDir: string): Promise<RedisSecrets> {
    const file = path.join(redisDir, 'secret');
    try {
      const text = (await readFile(file, 'utf8')).trim();
      if (/^[0-9a-f]{64}$/.test(text)) return new RedisSecrets(Buffer.from(text, 'hex'));
    } catch {
      // first start
    }
    const master = randomBytes(32);
    await writeFileDurably(file, `${master.toString('hex')}\n`, 0o600);
    return new RedisSecrets(master);
  }

  /** Password of the `__certplane_admin` user of database uid. */
  adminPassword(dbUid: number): string {
    return this.derive(`admin:${dbUid}`);
  }

  /** Password of certificate user userUid's internal redis user on database dbUid. */
  certificateUserPassword(dbUid: number, userUid: number): string {
    return this.derive(`cert:${dbUid}:${userUid}`);
  }

  private derive(label: string): string {
    return createHmac('sha256', this.master).update(label).digest('hex');
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
