// Verifies a client certificate chain against trust anchors at a given time: the rules shared by
// certificate login on the REST API and mutual TLS on database endpoints. Pure; no I/O.
import type { X509Certificate } from 'node:crypto';

export type ClientCertificateVerdict =
  | { ok: true }
  | { ok: false; error_code: 'certificate_not_trusted' | 'certificate_expired' | 'certificate_not_yet_valid'; description: string };

const MAX_DEPTH = 8;

/**
 * Accepts the leaf when it is one of the anchors, or when a path of CA certificates from the presented
 * chain leads to a certificate issued (and signed) by an anchor. Every certificate on the path must be
 * within its validity period at `now`.
 */
export function verifyClientCertificate(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], now: Date): ClientCertificateVerdict {
  const leaf = chain[0];
  if (leaf === undefined) return { ok: false, error_code: 'certificate_not_trusted', description: 'No client certificate was presented' };
  let current = leaf;
  const path: X509Certificate[] = [leaf];
  for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
    const anchor = anchors.find((a) => a.fingerprint256 === current.fingerprint256 || issuedBy(current, a));
    if (anchor !== undefined) {
      if (anchor.fingerprint256 !== current.fingerprint256) path.push(anchor);
      return checkValidity(path, now);
    }
    const next = chain.find((c) => c !== current && c.ca && issuedBy(current, c));
    if (next === undefined) break;
    path.push(next);
    current = next;
  }
  return { ok: false, error_code: 'certificate_not_trusted', description: 'The client certificate does not chain to a trusted CA' };
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function checkValidity(path: readonly X509Certificate[], now: Date): ClientCertificateVerdict {
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
