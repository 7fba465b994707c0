// Pure PEM / X.509 helpers on node:crypto: split PEM text into blocks, parse certificate chains and private
// keys (with descriptions that never echo key material), fingerprints, validity dates, signature algorithm.
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeOid, readTlv } from './der.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `PRIVATE KEY`. */
  type: string;
  /** RFC 1421 headers (`Proc-Type`, `DEK-Info`), rarely present. */
  headers: Record<string, string>;
  /** The base64 body without whitespace. */
  body: string;
  /** The block re-emitted canonically: LF line ends, 64-column body, trailing newline, no headers. */
  pem: string;
}

export class PemError extends Error {
  override name = 'PemError';
}

const MARKER = /-----(BEGIN|END) ([A-Z0-9][A-Z0-9 ._#-]{0,63})-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEADER = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;

/**
 * Splits text into PEM blocks. Tolerates CRLF, indentation, blank lines, text between blocks and JSON-escaped
 * `\n` sequences. Throws PemError on a BEGIN without its END (truncated), an END without a BEGIN, mismatched
 * labels, or a body that is not base64.
 */
export function splitPem(text: string): PemBlock[] {
  // Base64 has no backslash, so a literal "\n" can only be a newline that was escaped one time too many.
  const src = text.replace(/\\r\\n|\\n|\\r/g, '\n');
  const blocks: PemBlock[] = [];
  let open: { type: string; contentStart: number } | undefined;
  for (const m of src.matchAll(MARKER)) {
    const kind = m[1];
    const type = m[2] ?? '';
    if (kind === 'BEGIN') {
      if (open) throw new PemError(`PEM block "${open.type}" is truncated (no END line)`);
      open = { type, contentStart: (m.index ?? 0) + m[0].length };
      continue;
    }
    if (!open) throw new PemError(`PEM END line "${type}" has no matching BEGIN line`);
    if (open.type !== type) throw new PemError(`PEM block "${open.type}" ends with "${type}"`);
    blocks.push(makeBlock(type, src.slice(open.contentStart, m.index)));
    open = undefined;
  }
  if (open) throw new PemError(`PEM block "${open.type}" is truncated (no END line)`);
  return blocks;
}

function makeBlock(type: string, content: string): PemBlock {
  const headers: Record<string, string> = {};
  const parts: string[] = [];
  for (const raw of content.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const h = HEADER.exec(line);
    if (h) headers[h[1] ?? ''] = (h[2] ?? '').trim();
    else parts.push(line.replace(/\s+/g, ''));
  }
  const body = parts.join('');
  if (body === '') throw new PemError(`PEM block "${type}" is empty`);
  if (!BASE64.test(body)) throw new PemError(`PEM block "${type}" is not valid base64`);
  return { type, headers, body, pem: toPem(type, body) };
}

/** Canonical PEM for a base64 body (or DER bytes): 64-column lines, LF, trailing newline. */
export function toPem(type: string, body: string | Uint8Array): string {
  const b64 = typeof body === 'string' ? body : Buffer.from(body).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

function isPrivateKeyLabel(type: string): boolean {
  return type.endsWith('PRIVATE KEY');
}

/** Parses one or more CERTIFICATE blocks (in the order given). Any other block, a key above all, is an error. */
export function parseCertificateChain(text: string): Result<X509Certificate[]> {
  let blocks: PemBlock[];
  try {
    blocks = splitPem(text);
  } catch (e) {
    return { ok: false, error: `is not valid PEM: ${(e as Error).message}` };
  }
  if (blocks.length === 0) return { ok: false, error: 'contains no PEM certificate' };
  const certs: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    if (isPrivateKeyLabel(block.type)) {
      return { ok: false, error: 'contains a private key where a certificate is expected; send the key in the key field' };
    }
    if (block.type !== 'CERTIFICATE') {
      return { ok: false, error: `contains a "${block.type}" PEM block where a certificate is expected` };
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(block.body, 'base64'));
    } catch {
      return { ok: false, error: `has a PEM block that cannot be parsed as an X.509 certificate (block #${i + 1})` };
    }
    if (Number.isNaN(Date.parse(cert.validFrom)) || Number.isNaN(Date.parse(cert.validTo))) {
      return { ok: false, error: `has a certificate with an unreadable validity period (block #${i + 1})` };
    }
    certs.push(cert);
  }
  return { ok: true, value: certs };
}

/** Parses exactly one unencrypted private key; also returns the key block in canonical PEM. */
export function parsePrivateKeyPem(text: string): Result<{ key: KeyObject; pem: string }> {
  let blocks: PemBlock[];
  try {
    blocks = splitPem(text);
  } catch (e) {
    return { ok: false, error: `is not valid PEM: ${(e as Error).message}` };
  }
  if (blocks.length === 0) return { ok: false, error: 'contains no PEM private key' };
  if (blocks.some((b) => b.type === 'CERTIFICATE')) {
    return { ok: false, error: 'contains a certificate where a private key is expected' };
  }
  if (blocks.some((b) => b.type === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(b.headers['Proc-Type'] ?? ''))) {
    return { ok: false, error: 'is encrypted with a passphrase; upload the unencrypted private key' };
  }
  if (blocks.some((b) => b.type.endsWith('PUBLIC KEY'))) {
    return { ok: false, error: 'contains a public key where a private key is expected' };
  }
  const other = blocks.find((b) => !isPrivateKeyLabel(b.type) && b.type !== 'EC PARAMETERS');
  if (other) return { ok: false, error: `contains a "${other.type}" PEM block where a private key is expected` };
  const keys = blocks.filter((b) => isPrivateKeyLabel(b.type));
  const [block] = keys;
  if (!block) return { ok: false, error: 'contains no PEM private key' };
  if (keys.length > 1) return { ok: false, error: 'contains more than one private key' };
  try {
    return { ok: true, value: { key: createPrivateKey({ key: block.pem, format: 'pem' }), pem: block.pem } };
  } catch {
    return { ok: false, error: `cannot be parsed as a "${block.type}"` };
  }
}

export function parsePrivateKey(text: string): Result<KeyObject> {
  const r = parsePrivateKeyPem(text);
  return r.ok ? { ok: true, value: r.value.key } : r;
}

/** SHA-256 of the DER certificate, lowercase hex without colons. */
export function certificateFingerprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** SHA-256 fingerprint in OpenSSL's form: uppercase hex pairs separated by colons. */
export function certificateFingerprintColons(cert: X509Certificate): string {
  return cert.fingerprint256;
}

export function certificateNotBefore(cert: X509Certificate): Date {
  return new Date(cert.validFrom);
}

export function certificateNotAfter(cert: X509Certificate): Date {
  return new Date(cert.validTo);
}

/** notAfter as ISO-8601 (`2026-01-31T12:00:00.000Z`). */
export function certificateExpiry(cert: X509Certificate): string {
  return certificateNotAfter(cert).toISOString();
}

/** True when the certificate names itself as issuer and its own key verifies its signature. */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}

// ---- signature algorithm (read from the DER, since node:crypto does not expose it) ----

export type SignatureHash = 'md2' | 'md4' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'intrinsic' | 'unknown';

export interface SignatureAlgorithm {
  oid: string;
  hash: SignatureHash;
}

const SIGNATURE_HASH: Record<string, SignatureHash> = {
  '1.2.840.113549.1.1.2': 'md2',
  '1.2.840.113549.1.1.3': 'md4',
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.3.14.3.2.3': 'md5',
  '1.3.14.3.2.29': 'sha1',
  '1.3.14.3.2.27': 'sha1',
  '1.2.840.10040.4.3': 'sha1',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
  '1.3.101.112': 'intrinsic',
  '1.3.101.113': 'intrinsic',
};

const DIGEST_HASH: Record<string, SignatureHash> = {
  '1.2.840.113549.2.2': 'md2',
  '1.2.840.113549.2.5': 'md5',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The algorithm the issuer signed this certificate with (Certificate.signatureAlgorithm). */
export function certificateSignatureAlgorithm(cert: X509Certificate): SignatureAlgorithm {
  const der = cert.raw;
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.start);
  const algId = readTlv(der, tbs.end);
  const oidTlv = readTlv(der, algId.start);
  const oid = decodeOid(der.subarray(oidTlv.start, oidTlv.end));
  if (oid !== RSASSA_PSS) return { oid, hash: SIGNATURE_HASH[oid] ?? 'unknown' };
  // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, ... }
  if (oidTlv.end >= algId.end) return { oid, hash: 'sha1' };
  const params = readTlv(der, oidTlv.end);
  if (params.tag !== 0x30 || params.start >= params.end) return { oid, hash: 'sha1' };
  const first = readTlv(der, params.start);
  if (first.tag !== 0xa0) return { oid, hash: 'sha1' };
  const hashAlg = readTlv(der, first.start);
  const hashOid = readTlv(der, hashAlg.start);
  return { oid, hash: DIGEST_HASH[decodeOid(der.subarray(hashOid.start, hashOid.end))] ?? 'unknown' };
}
