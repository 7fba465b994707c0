// Secrets certplane uses inside its redis-servers: one random master secret per node (<data-dir>/redis/secret,
// mode 0600), from which the redis passwords of each database's admin user, its `default` user and every
// database user certplane provisions are derived (HMAC-SHA256). Clients never learn them: the proxy checks
// the client's own credential and then logs the backend connection in with these. Nothing here is ever
// logged or stored in the cluster store.
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

  /** Redis password of certplane user userUid (password or certificate user) on database dbUid. */
  userPassword(dbUid: number, userUid: number): string {
    return this.derive(`user:${dbUid}:${userUid}`);
  }

  /** Redis password of the `default` user of database dbUid (the proxy checks authentication_redis_pass). */
  defaultUserPassword(dbUid: number): string {
    return this.derive(`default:${dbUid}`);
  }

  private derive(label: string): string {
    return createHmac('sha256', this.master).update(label).digest('hex');
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
