// The node's certificate files under <data-dir>/certs/<name>_cert.pem and <name>_key.pem (keys 0600).
// Each applied generation is written whole into certs.d/<generation>/ and `certs` is a symlink swapped
// atomically onto it, so a crash mid-apply leaves the old set or the new set, never a cert with a foreign key.
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDirectory, readSymlink, swapSymlink, writeFileDurably } from './atomic-file.js';
import { encryptPrivateKey, keyFileHolds, type KeyFileProtection } from './key-encryption.js';
import type { CertificateRecord } from '../store/certificate-records.js';

/** The certificate records of one applied generation, by certificate name. */
export type CertificateSet = Record<string, CertificateRecord>;

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

export function certificateFileName(name: string): string {
  return `${name}_cert.pem`;
}

export function keyFileName(name: string): string {
  return `${name}_key.pem`;
}

export class CertificateFiles {
  readonly linkPath: string;
  private readonly generationsDir: string;

  constructor(dataDir: string) {
    this.linkPath = path.join(dataDir, 'certs');
    this.generationsDir = path.join(dataDir, 'certs.d');
  }

  /** The files of the current generation, by file name. */
  async read(): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    let names: string[];
    try {
      names = await readdir(this.linkPath);
    } catch {
      return files;
    }
    for (const name of names.filter((n) => n.endsWith('.pem'))) {
      files.set(name, await readFile(path.join(this.linkPath, name), 'utf8'));
    }
    return files;
  }

  /** True when the files on disk already hold exactly this set (key files encrypted when protection is given). */
  async matches(set: CertificateSet, protection?: KeyFileProtection): Promise<boolean> {
    const current = await this.read();
    const desired = toFiles(set);
    if (current.size !== desired.size) return false;
    for (const [name, content] of desired) {
      const actual = current.get(name);
      if (actual === undefined) return false;
      if (isKeyFile(name) ? !keyFileHolds(actual, content, protection) : actual !== content) return false;
    }
    return true;
  }

  /** Writes the set as a new generation; with protection, key files are encrypted (encrypt_pkeys). */
  async write(generation: number, set: CertificateSet, protection?: KeyFileProtection): Promise<void> {
    await mkdir(this.generationsDir, { recursive: true, mode: 0o700 });
    const dirName = `${String(generation).padStart(10, '0')}-${randomBytes(4).toString('hex')}`;
    const dir = path.join(this.generationsDir, dirName);
    await mkdir(dir, { mode: 0o755 });
    for (const [name, content] of toFiles(set)) {
      const data = isKeyFile(name) && protection !== undefined ? encryptPrivateKey(content, protection) : content;
      await writeFileDurably(path.join(dir, name), data, isKeyFile(name) ? KEY_FILE_MODE : CERT_FILE_MODE);
    }
    await fsyncDirectory(dir);
    await this.replaceLegacyDirectory();
    await swapSymlink(this.linkPath, path.join('certs.d', dirName));
    await this.removeGenerationsExcept(dirName);
  }

  /**
   * Removes every generation except the one `certs` points to. write() does this after each swap; a crash
   * between the swap and that cleanup would otherwise leave the previous keys on disk for good (they may be
   * the very keys a rotation meant to retire), so the agent also calls this when it starts.
   */
  async removeStaleGenerations(): Promise<void> {
    const target = await readSymlink(this.linkPath);
    if (target === undefined) return;
    const entries = await readdir(this.generationsDir).catch(() => undefined);
    if (entries === undefined || !entries.includes(path.basename(target))) return;
    await this.removeGenerationsExcept(path.basename(target));
  }

  private async replaceLegacyDirectory(): Promise<void> {
    // A plain directory at `certs` (never written by certplane itself) cannot be swapped atomically.
    const info = await stat(this.linkPath).catch(() => undefined);
    if (info?.isDirectory() === true && (await readSymlink(this.linkPath)) === undefined) {
      await rm(this.linkPath, { recursive: true, force: true });
    }
  }

  private async removeGenerationsExcept(keep: string): Promise<void> {
    for (const entry of await readdir(this.generationsDir)) {
      if (entry !== keep) await rm(path.join(this.generationsDir, entry), { recursive: true, force: true });
    }
    await fsyncDirectory(this.generationsDir);
  }
}

function isKeyFile(name: string): boolean {
  return name.endsWith('_key.pem');
}

function toFiles(set: CertificateSet): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, installed] of Object.entries(set)) {
    files.set(certificateFileName(name), installed.certificate);
    if (installed.key !== undefined) files.set(keyFileName(name), installed.key);
  }
  return files;
}
