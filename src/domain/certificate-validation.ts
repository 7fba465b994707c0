// Validation of the items of PUT /v1/cluster/certificates: each item gets its first failure (fixed check order),
// as an error code; the API answers with the status of the first failing item's code (the registry in
// lib/api-error.ts). Descriptions never carry PEM or key material.
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { ErrorCode } from '../lib/api-error.js';
import { CERTIFICATE_SPECS, isCertificateName, type CertificateName, type CertificateSpec } from './certificate-names.js';
import {
  certificateExpiry,
  certificateFingerprint,
  certificateNotAfter,
  certificateNotBefore,
  certificateSignatureAlgorithm,
  isSelfSigned,
  parseCertificateChain,
  parsePrivateKeyPem,
  toPem,
} from './pem.js';
import { costlyKeyReason, keyBoundsViolation } from './key-bounds.js';
import { pinRole, whyNotIssuer } from './client-certificate.js';

/** The error codes a certificate item can fail with. */
export type CertificateErrorCode = Extract<
  ErrorCode,
  | 'unknown_certificate'
  | 'duplicate_certificate_name'
  | 'invalid_certificate'
  | 'not_a_ca'
  | 'missing_key'
  | 'unexpected_key'
  | 'invalid_key'
  | 'key_mismatch'
  | 'weak_key'
  | 'weak_signature'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
>;

export interface CertificateItem {
  name: string;
  certificate: string;
  key?: string;
}

export interface CertificateItemError {
  name: string;
  error_code: CertificateErrorCode;
  description: string;
}

export interface ValidCertificate {
  name: CertificateName;
  /** The chain in canonical PEM (leaf first), trailing newline. */
  certificate: string;
  /** The private key block in canonical PEM; absent for names that take no key. */
  key?: string;
  /** SHA-256 of the leaf (first) certificate, lowercase hex. */
  fingerprint: string;
  /** notAfter of the leaf (first) certificate, ISO-8601. */
  not_after: string;
  /**
   * Accepted, but worth telling the operator: entries of a trust bundle that can never issue (non-CA
   * certificates, trusted only as pinned client certificates) or that have expired. Absent when none.
   */
  warnings?: string[];
}

export type CertificateItemsValidation =
  | { ok: true; certificates: ValidCertificate[] }
  | { ok: false; errors: CertificateItemError[] };

export type CertificateItemValidation = { ok: true; certificate: ValidCertificate } | { ok: false; error: CertificateItemError };

/** Validates every item; on failure lists each failing item (its first failure) in request order. */
export function validateCertificateItems(items: readonly CertificateItem[], now: Date): CertificateItemsValidation {
  const seen = new Set<string>();
  const certificates: ValidCertificate[] = [];
  const errors: CertificateItemError[] = [];
  for (const item of items) {
    let result: CertificateItemValidation;
    if (isCertificateName(item.name) && seen.has(item.name)) {
      result = fail(item.name, 'duplicate_certificate_name', `The ${item.name} certificate appears more than once in the request`);
    } else {
      seen.add(item.name);
      result = validateCertificateItem(item, now);
    }
    if (result.ok) certificates.push(result.certificate);
    else errors.push(result.error);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, certificates };
}

/** Validates one item on its own (no duplicate detection); returns its first failure. */
export function validateCertificateItem(item: CertificateItem, now: Date): CertificateItemValidation {
  const { name } = item;
  if (!isCertificateName(name)) {
    return fail(String(name), 'unknown_certificate', `Unknown certificate name "${clip(String(name))}"`);
  }
  const spec = CERTIFICATE_SPECS[name];
  const what = `The ${name} certificate`;

  const parsed = typeof item.certificate === 'string' ? parseCertificateChain(item.certificate) : undefined;
  if (!parsed || item.certificate.trim() === '') return fail(name, 'invalid_certificate', `${what} is empty`);
  if (!parsed.ok) return fail(name, 'invalid_certificate', `${what} ${parsed.error}`);
  const chain = parsed.value;

  // Before anything that checks a signature: an oversized modulus or exponent is costly to verify with.
  for (const [i, cert] of chain.entries()) {
    const costly = costlyKeyReason(cert);
    if (costly) return fail(name, 'weak_key', `${what} (${position(chain, i)}) has a key outside the accepted bounds: ${costly}`);
  }

  const structure = checkStructure(chain, spec);
  if (structure) return fail(name, structure.code, `${what} ${structure.text}`);

  let key: { key: KeyObject; pem: string } | undefined;
  const keyText = typeof item.key === 'string' && item.key.trim() !== '' ? item.key : undefined;
  if (spec.takesKey && keyText === undefined) {
    return fail(name, 'missing_key', `The ${name} certificate needs its private key in the key field`);
  }
  if (!spec.takesKey && keyText !== undefined) {
    return fail(name, 'unexpected_key', `The ${name} certificate takes no private key; remove the key field`);
  }
  if (keyText !== undefined) {
    const k = parsePrivateKeyPem(keyText);
    if (!k.ok) return fail(name, 'invalid_key', `The ${name} private key ${k.error}`);
    if (!leafMatches(chain, k.value.key)) {
      return fail(name, 'key_mismatch', `The ${name} private key does not match the ${name} certificate`);
    }
    key = k.value;
  }

  for (const [i, cert] of chain.entries()) {
    const weak = keyBoundsViolation(cert);
    if (weak) return fail(name, 'weak_key', `${what} (${position(chain, i)}) has a weak key: ${weak}`);
  }
  for (const [i, cert] of chain.entries()) {
    // A trust anchor's self-signature is never checked by peers, so its algorithm does not matter.
    if ((i > 0 || spec.mustBeCa) && isSelfSigned(cert)) continue;
    const { hash } = certificateSignatureAlgorithm(cert);
    if (hash === 'md2' || hash === 'md4' || hash === 'md5' || hash === 'sha1') {
      return fail(name, 'weak_signature', `${what} (${position(chain, i)}) is signed with ${WEAK_HASH_LABEL[hash]}; use SHA-256 or stronger`);
    }
  }
  const warnings: string[] = spec.mustBeCa ? bundleWarnings(chain, what) : [];
  const expired = chain.map((cert, i) => ({ cert, i })).filter(({ cert }) => certificateNotAfter(cert).getTime() < now.getTime());
  // In a trust bundle an expired entry beside valid ones is only useless (it never verifies): accepted with a
  // warning. A bundle of expired certificates only, or an expired certificate anywhere in a chain, is refused.
  const tolerated = spec.mustBeCa && expired.length < chain.length;
  for (const { cert, i } of expired) {
    if (!tolerated) return fail(name, 'certificate_expired', `${what} (${position(chain, i)}) expired on ${certificateExpiry(cert)}`);
    warnings.push(`${what} (${position(chain, i)}) expired on ${certificateExpiry(cert)}; it is never used`);
  }
  for (const [i, cert] of chain.entries()) {
    const notBefore = certificateNotBefore(cert);
    if (notBefore.getTime() > now.getTime()) {
      return fail(name, 'certificate_not_yet_valid', `${what} (${position(chain, i)}) is not valid before ${notBefore.toISOString()}`);
    }
  }

  const leaf = chain[0] as X509Certificate;
  const valid: ValidCertificate = {
    name,
    certificate: chain.map((c) => toPem('CERTIFICATE', c.raw)).join(''),
    fingerprint: certificateFingerprint(leaf),
    not_after: certificateExpiry(leaf),
  };
  if (key) valid.key = key.pem;
  if (warnings.length > 0) valid.warnings = warnings;
  return { ok: true, certificate: valid };
}

function checkStructure(chain: X509Certificate[], spec: CertificateSpec): { code: CertificateErrorCode; text: string } | undefined {
  if (spec.mustBeCa) {
    // A trust bundle: certificates need not form a chain, and operators build them with `cat ca.crt server.crt`;
    // non-CA entries are accepted as pins (bundleWarnings names them), but at least one entry must be able to issue.
    if (chain.some((cert) => whyNotIssuer(cert) === undefined)) return undefined;
    const reason = chain.length === 1 ? whyNotIssuer(chain[0] as X509Certificate) : 'holds no certificate that can issue';
    return { code: 'not_a_ca', text: `${reason ?? ''}: at least one CA certificate (basicConstraints CA:TRUE, keyCertSign where keyUsage is present) is required` };
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!safe(() => cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      return {
        code: 'invalid_certificate',
        text: `chain is not ordered leaf first, each certificate followed by its issuer: certificate #${i + 1} is not signed by certificate #${i + 2}`,
      };
    }
  }
  return undefined;
}

function leafMatches(chain: X509Certificate[], key: KeyObject): boolean {
  const leaf = chain[0];
  return leaf !== undefined && safe(() => leaf.checkPrivateKey(key));
}

/** One warning per trust-bundle entry that cannot issue: it is trusted only as a pinned client certificate. */
export function bundleWarnings(chain: X509Certificate[], what: string): string[] {
  const warnings: string[] = [];
  for (const [i, cert] of chain.entries()) {
    const reason = whyNotIssuer(cert);
    if (reason !== undefined) {
      warnings.push(`${what} (${position(chain, i)}) ${reason}: ${pinRole(cert)}`);
    }
  }
  return warnings;
}

const WEAK_HASH_LABEL = { md2: 'MD2', md4: 'MD4', md5: 'MD5', sha1: 'SHA-1' } as const;

function position(chain: X509Certificate[], i: number): string {
  if (chain.length === 1) return cn(chain[i]);
  return `certificate #${i + 1}${i === 0 ? ', the leaf' : ''}, ${cn(chain[i])}`;
}

function cn(cert: X509Certificate | undefined): string {
  const line = cert?.subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? clip(line) : 'no CN';
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}

function clip(s: string): string {
  const oneLine = s.replace(/[\r\n\t]+/g, ' ');
  return oneLine.length > 64 ? `${oneLine.slice(0, 61)}...` : oneLine;
}

function fail(name: string, code: CertificateErrorCode, description: string): { ok: false; error: CertificateItemError } {
  return { ok: false, error: { name, error_code: code, description } };
}
