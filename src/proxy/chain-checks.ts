// The checks of a presented client-certificate chain that do not depend on the time or on revocation, remembered
// per TLS front of a database endpoint (its trust anchors and subject rules are fixed for the front's life), so a
// client that reconnects with the same chain costs no signature check, extension parsing or subject parsing.
// Keyed by the chain's fingerprints (lib/peer-chain.ts); bounded (the oldest entry goes first), so a client that
// presents ever new chains only costs the checks it would have cost anyway. The validity period and revocation
// are checked for every connection by the caller.
import type { X509Certificate } from 'node:crypto';
import type { EndpointClientAuth } from '../domain/database-endpoint.js';
import { verifyClientChain, type ClientChainVerdict, type TrustAnchors } from '../domain/client-certificate.js';
import { canonicalCertificateSubject, matchesAuthorizedSubjects, subjectToRfc2253 } from '../domain/rfc2253.js';
import { certificateFingerprint } from '../domain/pem.js';

export interface ChainCheck {
  chain: ClientChainVerdict;
  /** The leaf's subject may log in here: an uploaded client certificate, or a subject the rules allow. */
  authorized: boolean;
  /** The leaf's subject as a canonical line (the key of the endpoint's certificate users). */
  subjectLine: string;
  /** The leaf's subject in RFC 2253 form, for the log. */
  subject: string;
}

const MAX_ENTRIES = 1024;

export class ChainChecks {
  private readonly checks = new Map<string, ChainCheck>();

  constructor(
    private readonly auth: EndpointClientAuth,
    private readonly anchors: TrustAnchors,
  ) {}

  /** The checks of a non-empty chain (`key` from presentedChain; `certificates` parsed only when not remembered). */
  check(key: string, certificates: () => readonly X509Certificate[]): ChainCheck {
    const known = this.checks.get(key);
    if (known !== undefined) return known;
    const certs = certificates();
    const leaf = certs[0] as X509Certificate;
    const chain = verifyClientChain(certs, this.anchors);
    // The subject of an untrusted certificate is never parsed.
    const result: ChainCheck = chain.ok
      ? {
          chain,
          authorized: this.auth.uploadedFingerprints.includes(certificateFingerprint(leaf)) || matchesAuthorizedSubjects(leaf, this.auth.validationType, this.auth.authorizedSubjects),
          subjectLine: canonicalCertificateSubject(leaf.subject),
          subject: subjectToRfc2253(leaf.subject),
        }
      : { chain, authorized: false, subjectLine: '', subject: '' };
    if (this.checks.size >= MAX_ENTRIES) this.checks.delete(this.checks.keys().next().value as string);
    this.checks.set(key, result);
    return result;
  }
}
