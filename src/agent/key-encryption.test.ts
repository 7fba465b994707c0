// encrypt_pkeys on disk: the per-node KEK file (0600, created once) and key files written as PKCS#8
// ENCRYPTED PRIVATE KEY that openssl cannot read without it, compared by the key they hold, not by bytes.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateFiles } from './certificate-files.js';
import { KeyEncryptionKey, encryptPrivateKey, keyFileHolds } from './key-encryption.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-kek-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const newKey = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;

/** openssl pkey on a key file, with or without a passphrase source; returns whether it could read the key. */
function opensslReads(file: string, passin: string): boolean {
  try {
    execFileSync('openssl', ['pkey', '-in', file, '-noout', '-passin', passin], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('KeyEncryptionKey', () => {
  it('creates a 0600 key file once and reads the same key afterwards, tightening a loose mode', async () => {
    const first = await new KeyEncryptionKey(dir).protection();
    expect(first.passphrase).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(path.join(dir, 'pkey-kek'))).mode & 0o777).toBe(0o600);
    await chmod(path.join(dir, 'pkey-kek'), 0o644);
    expect(await new KeyEncryptionKey(dir).protection()).toEqual(first);
    expect((await stat(path.join(dir, 'pkey-kek'))).mode & 0o777).toBe(0o600);
  });
});

describe('CertificateFiles with encrypted keys', () => {
  it('writes key files openssl cannot read without the KEK file, and can with it', async () => {
    const kek = new KeyEncryptionKey(dir);
    const protection = await kek.protection();
    const key = newKey();
    const files = new CertificateFiles(dir);
    await files.write(1, { api: { certificate: 'cert\n', key } }, protection);
    const keyFile = path.join(dir, 'certs', 'api_key.pem');
    const onDisk = await readFile(keyFile, 'utf8');
    expect(onDisk).toMatch(/^-{5}BEGIN ENCRYPTED PRIVATE KEY-{5}/);
    expect(onDisk).not.toContain(key.split('\n')[1]);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(opensslReads(keyFile, 'pass:')).toBe(false);
    expect(opensslReads(keyFile, `file:${kek.file}`)).toBe(true);
    expect(await readFile(path.join(dir, 'certs', 'api_cert.pem'), 'utf8')).toBe('cert\n');

    // Same key encrypted: matches (no rewrite on every pass); plain file or other key or other KEK: does not.
    expect(await files.matches({ api: { certificate: 'cert\n', key } }, protection)).toBe(true);
    expect(await files.matches({ api: { certificate: 'cert\n', key } })).toBe(false);
    expect(await files.matches({ api: { certificate: 'cert\n', key: newKey() } }, protection)).toBe(false);
    expect(await files.matches({ api: { certificate: 'cert\n', key } }, { passphrase: 'f'.repeat(64) })).toBe(false);

    // Turned off: plain again.
    await files.write(2, { api: { certificate: 'cert\n', key } });
    expect(await readFile(keyFile, 'utf8')).toBe(key);
    expect(await files.matches({ api: { certificate: 'cert\n', key } }, protection)).toBe(false);
  });

  it('keyFileHolds never accepts a plain key when encryption is asked for', () => {
    const key = newKey();
    const protection = { passphrase: 'a'.repeat(64) };
    expect(keyFileHolds(key, key, protection)).toBe(false);
    expect(keyFileHolds(encryptPrivateKey(key, protection), key, protection)).toBe(true);
    expect(keyFileHolds('garbage', key, protection)).toBe(false);
  });
});
