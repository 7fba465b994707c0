// CertificateFiles: generations swapped in by one symlink, and stale generations (left by a crash between
// the swap and the cleanup) removed, so retired private keys do not stay on disk.
import { mkdir, mkdtemp, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateFiles } from './certificate-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CertificateFiles', () => {
  it('writes a generation with 0600 keys, swaps the link and keeps only the current generation', async () => {
    const files = new CertificateFiles(dir);
    await files.write(1, { api: { certificate: 'cert-1\n', key: 'key-1\n' } });
    await files.write(2, { api: { certificate: 'cert-2\n', key: 'key-2\n' }, mtls_trusted_ca: { certificate: 'ca\n' } });
    expect(Object.fromEntries(await files.read())).toEqual({ 'api_cert.pem': 'cert-2\n', 'api_key.pem': 'key-2\n', 'mtls_trusted_ca_cert.pem': 'ca\n' });
    expect((await stat(path.join(dir, 'certs', 'api_key.pem'))).mode & 0o777).toBe(0o600);
    expect(await readdir(path.join(dir, 'certs.d'))).toEqual([path.basename(await readlink(path.join(dir, 'certs')))]);
  });

  it('removes generations the link does not point to (a crash after the swap left the old keys)', async () => {
    const files = new CertificateFiles(dir);
    await files.write(5, { api: { certificate: 'cert\n', key: 'key\n' } });
    const stale = path.join(dir, 'certs.d', '0000000004-deadbeef');
    await mkdir(stale);
    await writeFile(path.join(stale, 'api_key.pem'), 'old key\n', { mode: 0o600 });
    await files.removeStaleGenerations();
    expect(await readdir(path.join(dir, 'certs.d'))).toEqual([path.basename(await readlink(path.join(dir, 'certs')))]);
    expect(Object.fromEntries(await files.read())).toEqual({ 'api_cert.pem': 'cert\n', 'api_key.pem': 'key\n' });
  });

  it('leaves everything alone when there is no link yet', async () => {
    const files = new CertificateFiles(dir);
    await files.removeStaleGenerations();
    expect(await readdir(dir)).toEqual([]);
  });
});
