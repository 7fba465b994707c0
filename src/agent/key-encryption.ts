// encrypt_pkeys (PUT /v1/cluster): this node's private key files encrypted at rest with a key-encryption key
// (KEK) that exists only on this node, in <data-dir>/pkey-kek (0600, 32 random bytes as one line of 64 hex
// characters, created on first use, never written to the store). A key file becomes PKCS#8
// `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC) with that line as its passphrase, so an
// operator on the node reads it with `openssl pkey -in <file> -passin file:<data-dir>/pkey-kek`.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurably } from './atomic-file.js';

export const KEK_FILE_NAME = 'pkey-kek';
export const KEK_FILE_MODE = 0o600;
const ENCRYPTED_LABEL = `${'-'.repeat(5)}BEGIN ENCRYPTED PRIVATE KEY${'-'.repeat(5)}`;

/** How the agent writes key files: as stored (undefined) or encrypted with this passphrase. */
export interface KeyFileProtection {
  passphrase: string;
}

/** This node's KEK file: read (or created) on first use, then kept in memory. */
export class KeyEncryptionKey {
  readonly file: string;
  private cached: string | undefined;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, KEK_FILE_NAME);
  }

  async protection(): Promise<KeyFileProtection> {
    this.cached ??= await this.loadOrCreate();
    return { passphrase: this.cached };
  }

  private async loadOrCreate(): Promise<string> {
    let text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) {
      await writeFileDurably(this.file, `${randomBytes(32).toString('hex')}\n`, KEK_FILE_MODE);
      text = await readFile(this.file, 'utf8');
    } else if (((await stat(this.file)).mode & 0o077) !== 0) {
      // Readable by others (restored from a backup, copied by hand): tighten it before using it.
      await chmod(this.file, KEK_FILE_MODE);
    }
    const passphrase = text.split('\n')[0]!.trim();
    if (!/^[0-9a-f]{64}$/.test(passphrase)) throw new Error(`${this.file} is not a key-encryption key (one line of 64 hex characters)`);
    return passphrase;
  }
}

/** The key (any PEM form the store accepts) as PKCS#8 ENCRYPTED PRIVATE KEY under the passphrase. */
export function encryptPrivateKey(pem: string, protection: KeyFileProtection): string {
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: protection.passphrase }) as string;
}

/**
 * True when a key file on disk is the desired key in the desired form: encrypted under this passphrase (when
 * protection is given; the ciphertext differs on every write, so compare the decrypted keys), or exactly the
 * stored PEM (when not).
 */
export function keyFileHolds(fileContent: string, desiredPem: string, protection: KeyFileProtection | undefined): boolean {
  if (protection === undefined) return fileContent === desiredPem;
  if (!fileContent.startsWith(ENCRYPTED_LABEL)) return false;
  try {
    const onDisk = createPrivateKey({ key: fileContent, passphrase: protection.passphrase }).export({ type: 'pkcs8', format: 'der' });
    const desired = createPrivateKey(desiredPem).export({ type: 'pkcs8', format: 'der' });
    return onDisk.equals(desired);
  } catch {
    return false;
  }
}
