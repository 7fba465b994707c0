// Revocation checking of a verified client-certificate path against the installed CRLs (a certplane
// extension, README "Certificate revocation lists"). Pure; no I/O. The state is plain data (RevocationState),
// so the node can send it to the data-plane processes; RevocationIndex is its parsed form, built once per change.
//
// The rule, for a path [leaf, ..., anchor] found by domain/client-certificate.ts:
// - every certificate but the anchor is looked up in the CRL of the certificate above it (matched by that CA's
//   subject and public key, issuerIdentity): a listed serial refuses the login (certificate_revoked), whatever
//   the CRL's age;
// - the anchor itself is looked up in the CRL of its own issuer when that issuer is also an anchor (an
//   intermediate CA in the trust bundle revoked by its root);
// - a certificate whose issuer has no CRL, or only one past its next_update, is "unknown": refused
//   (revocation_unknown) when missing_or_expired is "refuse", accepted with a warning when it is "accept";
// - a pinned client certificate (a non-CA anchor matched as itself) has no issuer on the path: never checked.
import type { X509Certificate } from 'node:crypto';
import { issuerIdentity, normalizeSerial } from './crl.js';
import type { TrustAnchors } from './client-certificate.js';

export type MissingCrlPolicy = 'refuse' | 'accept';
export const MISSING_CRL_POLICIES = ['refuse', 'accept'] as const satisfies readonly MissingCrlPolicy[];
/** The default of missing_or_expired (README): a CDP outage alerts instead of locking every client out. */
export const DEFAULT_MISSING_CRL_POLICY: MissingCrlPolicy = 'accept';

/** One CA's revoked serials, as the node sends them to the data plane. */
export interface RevocationList {
  /** issuerIdentity() of the CA that signed the CRL. */
  issuer: string;
  /** The CA's subject (for log lines and descriptions). */
  issuer_subject: string;
  this_update: string;
  next_update: string | null;
  /** Normalized serials (crl.ts normalizeSerial). */
  revoked: string[];
}

/** What revocation checking needs; undefined (or absent) when checking is off (the RS behaviour). */
export interface RevocationState {
  missing_or_expired: MissingCrlPolicy;
  lists: RevocationList[];
}

export type RevocationVerdict =
  | { ok: true; warning?: string }
  | { ok: false; error_code: 'certificate_revoked' | 'revocation_unknown'; description: string; revoked: boolean };

interface IndexedList {
  subject: string;
  nextUpdate: number | undefined;
  revoked: ReadonlySet<string>;
}

export class RevocationIndex {
  private readonly lists = new Map<string, IndexedList>();
  private readonly parents = new WeakMap<X509Certificate, X509Certificate | null>();
  readonly policy: MissingCrlPolicy;

  constructor(readonly state: RevocationState) {
    this.policy = state.missing_or_expired;
    for (const list of state.lists) {
      this.lists.set(list.issuer, {
        subject: list.issuer_subject,
        nextUpdate: list.next_update === null ? undefined : Date.parse(list.next_update),
        revoked: new Set(list.revoked),
      });
    }
  }

  /** Checks a verified path (leaf first, anchor last); `anchors` finds the issuer of an anchor that is an intermediate CA. */
  check(path: readonly X509Certificate[], anchors: TrustAnchors, now: Date): RevocationVerdict {
    if (path.length < 2) return { ok: true };
    const pairs: Array<{ cert: X509Certificate; issuer: X509Certificate; required: boolean }> = [];
    for (let i = 0; i + 1 < path.length; i++) pairs.push({ cert: path[i]!, issuer: path[i + 1]!, required: true });
    const anchor = path[path.length - 1]!;
    const parent = this.anchorParent(anchor, anchors);
    if (parent !== undefined) pairs.push({ cert: anchor, issuer: parent, required: false });
    const unknown: string[] = [];
    for (const [depth, { cert, issuer, required }] of pairs.entries()) {
      const list = this.lists.get(safeIdentity(issuer));
      if (list === undefined) {
        if (required) unknown.push(`no CRL of the CA ${oneLine(issuer.subject)} is installed`);
        continue;
      }
      if (list.revoked.has(normalizeSerial(cert.serialNumber))) {
        const what = depth === 0 ? `The client certificate (serial ${normalizeSerial(cert.serialNumber)})` : `The CA ${oneLine(cert.subject)} in the client certificate chain`;
        return { ok: false, error_code: 'certificate_revoked', revoked: true, description: `${what} is revoked by the CRL of ${oneLine(list.subject)}` };
      }
      if (required && list.nextUpdate !== undefined && list.nextUpdate < now.getTime()) {
        unknown.push(`the CRL of the CA ${oneLine(list.subject)} is past its next_update (${new Date(list.nextUpdate).toISOString()})`);
      }
    }
    if (unknown.length === 0) return { ok: true };
    const why = unknown.join('; ');
    if (this.policy === 'accept') return { ok: true, warning: `revocation status unknown, accepted (missing_or_expired "accept"): ${why}` };
    return { ok: false, error_code: 'revocation_unknown', revoked: false, description: `The revocation status of the client certificate is unknown and missing_or_expired is "refuse": ${why}` };
  }

  /** The anchor that issued an intermediate anchor, if any (looked up once per anchor). */
  private anchorParent(anchor: X509Certificate, anchors: TrustAnchors): X509Certificate | undefined {
    const known = this.parents.get(anchor);
    if (known !== undefined) return known ?? undefined;
    let found: X509Certificate | null = null;
    if (anchor.issuer !== anchor.subject) {
      for (const { cert } of anchors.issuersBySubject.get(anchor.issuer) ?? []) {
        try {
          if (anchor.checkIssued(cert) && anchor.verify(cert.publicKey)) {
            found = cert;
            break;
          }
        } catch {
          // not its issuer
        }
      }
    }
    this.parents.set(anchor, found);
    return found ?? undefined;
  }
}

function safeIdentity(cert: X509Certificate): string {
  try {
    return issuerIdentity(cert);
  } catch {
    return '';
  }
}

function oneLine(subject: string): string {
  return subject.replaceAll('\n', ', ');
}
