import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  certificateExpiry,
  certificateFingerprint,
  certificateFingerprintColons,
  certificateSignatureAlgorithm,
  isSelfSigned,
  parseCertificateChain,
  parsePrivateKey,
  parsePrivateKeyPem,
  PemError,
  splitPem,
  toPem,
} from './pem.js';
import { createCa, encryptKey, issueCertificate, selfSigned, type TestCertificate } from '../../test/helpers/pki.js';

let ca: TestCertificate;
let leaf: TestCertificate;

beforeAll(async () => {
  ca = await createCa({ cn: 'PEM Test CA' });
  leaf = await issueCertificate(ca, { cn: 'leaf.example.com', notAfter: new Date('2031-05-06T07:08:09Z') });
});

function keyBody(pem: string): string {
  return pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
}

describe('splitPem', () => {
  it('splits blocks and canonicalises them, tolerating CRLF, indentation and text between blocks', () => {
    const messy = `subject=CN=leaf\r\n  ${leaf.certificate.replace(/\n/g, '\r\n  ')}\r\nsome comment\r\n\r\n${ca.certificate}`;
    const blocks = splitPem(messy);
    expect(blocks.map((b) => b.type)).toEqual(['CERTIFICATE', 'CERTIFICATE']);
    expect(blocks[0]?.pem).toBe(leaf.certificate);
    expect(blocks[1]?.pem).toBe(ca.certificate);
  });

  it('accepts JSON-escaped newlines and re-wraps long lines at 64 columns', () => {
    const oneLine = `-----BEGIN CERTIFICATE-----${keyBody(leaf.certificate)}-----END CERTIFICATE-----`;
    expect(splitPem(oneLine)[0]?.pem).toBe(leaf.certificate);
    expect(splitPem(leaf.certificate.replace(/\n/g, '\\n'))[0]?.pem).toBe(leaf.certificate);
  });

  it('returns no blocks for text without PEM', () => {
    expect(splitPem('hello world')).toEqual([]);
    expect(splitPem('')).toEqual([]);
  });

  it('rejects a truncated block (BEGIN without END)', () => {
    const truncated = leaf.certificate.slice(0, leaf.certificate.length / 2);
    expect(() => splitPem(truncated)).toThrow(PemError);
    expect(() => splitPem(truncated)).toThrow(/truncated/);
    // BEGIN of a second block before the END of the first
    expect(() => splitPem(truncated + ca.certificate)).toThrow(/truncated|ends with/);
  });

  it('rejects END without BEGIN, mismatched labels, bad base64, empty body', () => {
    expect(() => splitPem('abc\n-----END CERTIFICATE-----\n')).toThrow(/no matching BEGIN/);
    expect(() => splitPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow(/ends with/);
    expect(() => splitPem('-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n')).toThrow(/base64/);
    expect(() => splitPem('-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n')).toThrow(/empty/);
  });

  it('collects RFC 1421 headers apart from the body', () => {
    const enc = encryptKey(leaf, 'secret', 'pkcs1');
    const [block] = splitPem(enc);
    expect(block?.type).toBe('RSA PRIVATE KEY');
    expect(block?.headers['Proc-Type']).toBe('4,ENCRYPTED');
    expect(block?.body).not.toContain(':');
  });
});

describe('parseCertificateChain', () => {
  it('parses a chain in the order given', () => {
    const r = parseCertificateChain(leaf.chain);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((c) => c.subject)).toEqual(['CN=leaf.example.com', 'CN=PEM Test CA']);
  });

  it.each([
    ['empty', '', /no PEM certificate/],
    ['garbage', 'this is not a certificate', /no PEM certificate/],
    ['truncated', 'x', /truncated/],
    ['corrupted DER', '-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAA\n-----END CERTIFICATE-----\n', /cannot be parsed/],
  ])('rejects %s', (_label, text, message) => {
    const input = text === 'x' ? leaf.certificate.slice(0, 200) : text;
    const r = parseCertificateChain(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('rejects a private key in the certificate text without echoing it', () => {
    for (const text of [leaf.key, leaf.certificate + leaf.key]) {
      const r = parseCertificateChain(text);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toMatch(/private key/);
      expect(r.error).not.toContain(keyBody(leaf.key).slice(0, 20));
    }
  });
});

describe('parsePrivateKey', () => {
  it('parses PKCS#8, PKCS#1 and SEC1 (with EC PARAMETERS) keys', async () => {
    expect(parsePrivateKey(leaf.key).ok).toBe(true);
    const pkcs1 = leaf.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const r1 = parsePrivateKeyPem(pkcs1);
    expect(r1.ok && r1.value.pem).toBe(pkcs1);
    const ec = await selfSigned({ cn: 'ec', curve: 'P-256' });
    const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const withParams = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1}`;
    const r2 = parsePrivateKeyPem(withParams);
    expect(r2.ok && r2.value.pem).toBe(sec1);
    expect(r2.ok && r2.value.key.asymmetricKeyType).toBe('ec');
  });

  it.each([
    ['PKCS#8 encrypted', () => encryptKey(leaf, 'pw'), /encrypted/],
    ['legacy Proc-Type encrypted', () => encryptKey(leaf, 'pw', 'pkcs1'), /encrypted/],
    ['a certificate', () => leaf.certificate, /certificate where a private key/],
    ['a public key', () => leaf.publicKey.export({ type: 'spki', format: 'pem' }) as string, /public key/],
    ['two keys', () => leaf.key + leaf.key, /more than one/],
    ['garbage', () => 'not a key', /no PEM private key/],
    ['truncated', () => leaf.key.slice(0, 300), /truncated/],
    ['corrupted', () => toPem('PRIVATE KEY', 'MIIBAAAA'), /cannot be parsed/],
  ])('rejects %s', (_label, make, message) => {
    const r = parsePrivateKey(make());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('certificate facts', () => {
  it('fingerprint is lowercase SHA-256 hex; the colon form matches node', () => {
    const fp = certificateFingerprint(leaf.x509);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(certificateFingerprintColons(leaf.x509).replace(/:/g, '').toLowerCase()).toBe(fp);
  });

  it('expiry is ISO-8601', () => {
    expect(certificateExpiry(leaf.x509)).toBe('2031-05-06T07:08:09.000Z');
  });

  it('recognises self-signed certificates', () => {
    expect(isSelfSigned(ca.x509)).toBe(true);
    expect(isSelfSigned(leaf.x509)).toBe(false);
  });

  it('toPem wraps DER at 64 columns with a trailing newline', () => {
    expect(toPem('CERTIFICATE', leaf.x509.raw)).toBe(leaf.certificate);
  });

  it('reads the signature algorithm from the DER', async () => {
    expect(certificateSignatureAlgorithm(leaf.x509).hash).toBe('sha256');
    const sha1 = await issueCertificate(ca, { cn: 'sha1', hash: 'SHA-1' });
    expect(certificateSignatureAlgorithm(sha1.x509)).toEqual({ oid: '1.2.840.113549.1.1.5', hash: 'sha1' });
    const md5 = await issueCertificate(ca, { cn: 'md5', hash: 'MD5' });
    expect(certificateSignatureAlgorithm(md5.x509)).toEqual({ oid: '1.2.840.113549.1.1.4', hash: 'md5' });
    const ecCa = await createCa({ cn: 'ec ca', curve: 'P-384' });
    const ecSha1 = await issueCertificate(ecCa, { cn: 'ec', curve: 'P-256', hash: 'SHA-1' });
    expect(certificateSignatureAlgorithm(ecSha1.x509)).toEqual({ oid: '1.2.840.10045.4.1', hash: 'sha1' });
    expect(certificateSignatureAlgorithm(ecCa.x509).hash).toBe('sha256');
  });

  it('reads the hash of RSASSA-PSS signatures from the parameters', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certplane-pss-'));
    try {
      const hashes: Record<string, string> = {};
      for (const md of ['sha256', 'sha1']) {
        const out = path.join(dir, `${md}.pem`);
        execFileSync('openssl', [
          'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', out,
          '-subj', '/CN=pss', '-days', '1', `-${md}`, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32',
        ], { stdio: 'ignore' });
        const r = parseCertificateChain(readFileSync(out, 'utf8'));
        if (!r.ok || !r.value[0]) throw new Error('openssl output did not parse');
        const alg = certificateSignatureAlgorithm(r.value[0]);
        expect(alg.oid).toBe('1.2.840.113549.1.1.10');
        hashes[md] = alg.hash;
      }
      expect(hashes).toEqual({ sha256: 'sha256', sha1: 'sha1' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
