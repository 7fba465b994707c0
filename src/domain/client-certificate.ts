// Verifies a client certificate chain against trust anchors at a given time: the rules shared by
// certificate login on the REST API and mutual TLS on database endpoints (DESIGN.md, trust rule). Pure; no I/O.
//
// - Only a CA certificate issues: basicConstraints CA:TRUE, keyCertSign where keyUsage is present, and its
//   pathLenConstraint honoured (RFC 5280 §4.2.1.9: self-issued intermediates do not count). This holds for
//   anchors and presented intermediates alike. A CA with nameConstraints (critical or not) never issues, as
//   certplane does not enforce them.
// - No certificate on the path (leaf, intermediates, issuing anchor) may carry a critical extension certplane
//   does not process (RFC 5280 §4.2; PROCESSED_EXTENSIONS). A non-CA anchor (a pinned client certificate) only matches the
//   identical presented certificate; it never issues.
// - The leaf must be usable for client authentication: an extendedKeyUsage without clientAuth (or
//   anyExtendedKeyUsage) refuses it.
// - Work per presented chain is bounded before any signature is checked: at most MAX_PRESENTED_CHAIN
//   certificates, every key within key-bounds.ts, issuers looked up by subject name (and matched on key
//   identifiers by checkIssued) rather than tried one by one, and at most MAX_SIGNATURE_CHECKS signatures.
import type { X509Certificate } from 'node:crypto';
import { EKU_ANY, EKU_CLIENT_AUTH, readCertificateExtensions, type CertificateExtensions } from './certificate-extensions.js';
import { keyBoundsViolation } from './key-bounds.js';
import { certificateFingerprint } from './pem.js';

export type ClientCertificateErrorCode = 'certificate_not_trusted' | 'certificate_expired' | 'certificate_not_yet_valid';

export type ClientCertificateVerdict = { ok: true } | { ok: false; error_code: ClientCertificateErrorCode; description: string };

/** What chain checking found, before time: the path from the leaf to its anchor, or why there is none. */
export type ClientChainVerdict = { ok: true; path: readonly X509Certificate[] } | { ok: false; error_code: 'certificate_not_trusted'; description: string };

/** The most certificates a client may present (leaf included); a longer chain is refused before any work. */
export const MAX_PRESENTED_CHAIN = 10;
/** The most signatures one chain check verifies, whatever the presented certificates look like. */
export const MAX_SIGNATURE_CHECKS = 24;

interface Issuer {
  cert: X509Certificate;
  /** basicConstraints pathLenConstraint, when present. */
  pathLen: number | undefined;
}

/** A set of trust anchors, parsed once: pins by fingerprint, CA anchors by subject. */
export interface TrustAnchors {
  readonly size: number;
  /** SHA-256 of every anchor (CA or not): an identical presented leaf is trusted (pinning). */
  readonly fingerprints: ReadonlySet<string>;
  /** The anchors that may issue, by subject (node:crypto's rendering, as `issuer` of the certificates they sign). */
  readonly issuersBySubject: ReadonlyMap<string, readonly Issuer[]>;
  /** CA anchors refused as issuers for a constraint certplane does not enforce, by subject: why (for descriptions). */
  readonly refusedIssuers: ReadonlyMap<string, string>;
}

type IssuerCapability = { ok: true; pathLen: number | undefined } | { ok: false; reason: string; unenforced?: true };

/** Indexes anchors; anchors that may not issue (no CA:TRUE, no keyCertSign, unreadable, out-of-bounds key) stay pins only. */
export function buildTrustAnchors(certs: readonly X509Certificate[]): TrustAnchors {
  const fingerprints = new Set<string>();
  const issuersBySubject = new Map<string, Issuer[]>();
  const refusedIssuers = new Map<string, string>();
  for (const cert of certs) {
    const fingerprint = certificateFingerprint(cert);
    if (fingerprints.has(fingerprint)) continue;
    fingerprints.add(fingerprint);
    const issuer = asIssuer(cert, refusedIssuers);
    if (issuer === undefined || keyBoundsViolation(cert) !== undefined) continue;
    const list = issuersBySubject.get(cert.subject) ?? [];
    list.push(issuer);
    issuersBySubject.set(cert.subject, list);
  }
  return { size: fingerprints.size, fingerprints, issuersBySubject, refusedIssuers };
}

/** Whether a certificate may issue under the trust rule, and with which path length. */
export function issuerCapability(extensions: CertificateExtensions): IssuerCapability {
  if (extensions.basicConstraints?.ca !== true) return { ok: false, reason: 'is not a CA certificate (no basicConstraints CA:TRUE)' };
  if (extensions.keyUsage !== undefined && !extensions.keyUsage.has('keyCertSign')) {
    return { ok: false, reason: 'has a keyUsage without keyCertSign' };
  }
  if (extensions.nameConstraints) {
    return { ok: false, unenforced: true, reason: 'has nameConstraints, which certplane does not enforce, so it is never accepted as an issuer' };
  }
  const critical = unprocessedCriticalReason(extensions);
  if (critical !== undefined) return { ok: false, unenforced: true, reason: critical };
  return { ok: true, pathLen: extensions.basicConstraints.pathLen };
}

/** Undefined when the certificate may issue under the trust rule, else why it may not. */
export function whyNotIssuer(cert: X509Certificate): string | undefined {
  try {
    const capability = issuerCapability(readCertificateExtensions(cert));
    return capability.ok ? undefined : capability.reason;
  } catch {
    return 'has malformed extensions';
  }
}

/** Why a certificate is refused for its critical extensions, or undefined when it has none certplane does not process. */
function unprocessedCriticalReason(extensions: CertificateExtensions): string | undefined {
  if (extensions.unprocessedCritical.length === 0) return undefined;
  return `has a critical extension certplane does not process (${extensions.unprocessedCritical.join(', ')})`;
}

/** What a non-issuing trust-bundle entry is good for, for warnings: a pin, or (without clientAuth) nothing. */
export function pinRole(cert: X509Certificate): string {
  let eku: readonly string[] | undefined;
  try {
    eku = readCertificateExtensions(cert).extKeyUsage;
  } catch {
    return 'it is never used';
  }
  if (eku !== undefined && !eku.includes(EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) {
    return 'it never issues, and as its extendedKeyUsage lacks clientAuth it never logs in either';
  }
  return 'it is trusted only as a pinned client certificate, never as an issuer';
}

/** Leaf first: accepts a pinned leaf, or a path through presented CA certificates to a CA anchor; then checks time. */
export function verifyClientCertificate(chain: readonly X509Certificate[], anchors: TrustAnchors, now: Date): ClientCertificateVerdict {
  const verdict = verifyClientChain(chain, anchors);
  return verdict.ok ? checkPathValidity(verdict.path, now) : verdict;
}

/** Everything but time: bounded, so it may run on any chain an unauthenticated client sends. */
export function verifyClientChain(chain: readonly X509Certificate[], anchors: TrustAnchors): ClientChainVerdict {
  const leaf = chain[0];
  if (leaf === undefined) return notTrusted('No client certificate was presented');
  if (chain.length > MAX_PRESENTED_CHAIN) {
    return notTrusted(`The client presented ${chain.length} certificates; at most ${MAX_PRESENTED_CHAIN} are accepted`);
  }
  for (const cert of chain) {
    const violation = keyBoundsViolation(cert);
    if (violation !== undefined) return notTrusted(`A presented certificate has a key outside the accepted bounds: ${violation}`);
  }
  let leafExtensions: CertificateExtensions;
  try {
    leafExtensions = readCertificateExtensions(leaf);
  } catch {
    return notTrusted('The client certificate has malformed extensions');
  }
  const eku = leafExtensions.extKeyUsage;
  if (eku !== undefined && !eku.includes(EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) {
    return notTrusted('The client certificate is not for client authentication (its extendedKeyUsage lacks clientAuth)');
  }
  const leafCritical = unprocessedCriticalReason(leafExtensions);
  if (leafCritical !== undefined) return notTrusted(`The client certificate ${leafCritical}`);
  if (anchors.fingerprints.has(certificateFingerprint(leaf))) return { ok: true, path: [leaf] };

  const presented = new Map<string, Issuer[]>();
  const refused = new Map(anchors.refusedIssuers);
  for (const cert of chain.slice(1)) {
    let issuer: Issuer | undefined;
    try {
      issuer = asIssuer(cert, refused);
    } catch {
      issuer = undefined;
    }
    if (issuer === undefined) continue;
    const list = presented.get(cert.subject) ?? [];
    list.push(issuer);
    presented.set(cert.subject, list);
  }
  const search = new PathSearch(anchors, presented);
  const path = search.find([leaf]);
  if (path !== undefined) return { ok: true, path };
  if (search.exhausted) return notTrusted(`The client certificate chain needs more than ${MAX_SIGNATURE_CHECKS} signature checks; it is not accepted`);
  // Name the CA that would have issued, had certplane accepted its constraints.
  for (const cert of chain) {
    const reason = refused.get(cert.issuer);
    if (reason !== undefined) {
      return notTrusted(`The client certificate does not chain to a trusted CA: the CA ${cert.issuer.replaceAll('\n', ', ')} ${reason}`);
    }
  }
  return notTrusted('The client certificate does not chain to a trusted CA');
}

/** Every certificate on the path must be within its validity period at `now` (cheap: no signatures). */
export function checkPathValidity(path: readonly X509Certificate[], now: Date): ClientCertificateVerdict {
  for (const cert of path) {
    if (Date.parse(cert.validTo) < now.getTime()) {
      return { ok: false, error_code: 'certificate_expired', description: 'The client certificate (or a CA in its chain) has expired' };
    }
    if (Date.parse(cert.validFrom) > now.getTime()) {
      return { ok: false, error_code: 'certificate_not_yet_valid', description: 'The client certificate (or a CA in its chain) is not valid yet' };
    }
  }
  return { ok: true };
}

/** Depth-first path building from the leaf up, anchors tried before presented intermediates. */
class PathSearch {
  private checks = 0;
  private readonly verified = new Map<string, boolean>();
  exhausted = false;

  constructor(
    private readonly anchors: TrustAnchors,
    private readonly presented: ReadonlyMap<string, readonly Issuer[]>,
  ) {}

  find(path: readonly X509Certificate[]): X509Certificate[] | undefined {
    const current = path[path.length - 1]!;
    // Non-self-issued intermediates between the leaf and the next issuer (RFC 5280 pathLenConstraint).
    const below = path.slice(1).filter((cert) => cert.subject !== cert.issuer).length;
    for (const issuer of this.anchors.issuersBySubject.get(current.issuer) ?? []) {
      if (this.issues(issuer, current, below)) return [...path, issuer.cert];
      if (this.exhausted) return undefined;
    }
    if (path.length >= MAX_PRESENTED_CHAIN) return undefined;
    for (const issuer of this.presented.get(current.issuer) ?? []) {
      if (path.includes(issuer.cert)) continue;
      if (!this.issues(issuer, current, below)) {
        if (this.exhausted) return undefined;
        continue;
      }
      const found = this.find([...path, issuer.cert]);
      if (found !== undefined || this.exhausted) return found;
    }
    return undefined;
  }

  private issues(issuer: Issuer, cert: X509Certificate, below: number): boolean {
    if (issuer.pathLen !== undefined && below > issuer.pathLen) return false;
    if (!safe(() => cert.checkIssued(issuer.cert))) return false; // names and key identifiers, no signature
    const key = `${cert.fingerprint256}|${issuer.cert.fingerprint256}`;
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    if (this.checks >= MAX_SIGNATURE_CHECKS) {
      this.exhausted = true;
      return false;
    }
    this.checks += 1;
    const ok = safe(() => cert.verify(issuer.cert.publicKey));
    this.verified.set(key, ok);
    return ok;
  }
}

/** The certificate as an issuer, or undefined; a CA refused for a constraint certplane does not enforce goes into `refused`. */
function asIssuer(cert: X509Certificate, refused?: Map<string, string>): Issuer | undefined {
  let extensions: CertificateExtensions;
  try {
    extensions = readCertificateExtensions(cert);
  } catch {
    return undefined;
  }
  const capability = issuerCapability(extensions);
  if (!capability.ok) {
    if (capability.unenforced === true && refused !== undefined && !refused.has(cert.subject)) refused.set(cert.subject, capability.reason);
    return undefined;
  }
  return { cert, pathLen: capability.pathLen };
}

function notTrusted(description: string): { ok: false; error_code: 'certificate_not_trusted'; description: string } {
  return { ok: false, error_code: 'certificate_not_trusted', description };
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}
