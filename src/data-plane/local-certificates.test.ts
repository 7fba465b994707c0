import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCertificates } from './local-certificates.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'local-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function selfSigned(cn: string): { certificate: string; key: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPath = path.join(dir, `${cn}.key`);
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const certificate = execFileSync('openssl', ['req', '-new', '-x509', '-key', keyPath, '-subj', `/CN=${cn}`, '-days', '1'], { encoding: 'utf8' });
  return { certificate, key: readFileSync(keyPath, 'utf8') };
}

describe('LocalCertificates (the data plane side of the proxy certificate)', () => {
  const a = selfSigned('a');
  const b = selfSigned('b');

  it('swaps a new certificate into every registered server', () => {
    const certificates = new LocalCertificates();
    certificates.install('proxy', a);
    const seen: SecureContextOptions[] = [];
    certificates.register('proxy', { setSecureContext: (o) => seen.push(o) }, () => ({ minVersion: 'TLSv1.2' }));
    certificates.install('proxy', b);
    expect(seen).toEqual([{ minVersion: 'TLSv1.2', cert: b.certificate, key: b.key }]);
    expect(certificates.get('proxy')).toEqual(b);
  });

  it('refuses a certificate that does not match its key, changing nothing', () => {
    const certificates = new LocalCertificates();
    certificates.install('proxy', a);
    const seen: unknown[] = [];
    certificates.register('proxy', { setSecureContext: (o) => seen.push(o) }, () => ({}));
    expect(() => certificates.install('proxy', { certificate: b.certificate, key: a.key })).toThrow();
    expect(seen).toEqual([]);
    expect(certificates.get('proxy')).toEqual(a);
  });

  it('puts every server back on the old certificate when one refuses the new one', () => {
    const certificates = new LocalCertificates();
    certificates.install('proxy', a);
    const first: Array<string | undefined> = [];
    certificates.register('proxy', { setSecureContext: (o) => first.push(o.cert as string) }, () => ({}));
    certificates.register('proxy', { setSecureContext: () => { throw new Error('refused'); } }, () => ({}));
    expect(() => certificates.install('proxy', b)).toThrow('refused');
    expect(first).toEqual([b.certificate, a.certificate]);
    expect(certificates.get('proxy')).toEqual(a);
  });
});
