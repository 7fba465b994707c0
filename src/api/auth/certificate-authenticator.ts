// Client-certificate login (digest §4, DESIGN.md): when the cluster has mtls_certificate_authentication on,
// a certificate that chains to mtls_trusted_ca, is within its validity period, passes the subject
// validation type, and whose RFC 2253 subject equals a certificate user's certificate_subject_line (both in
// canonical form, rfc2253.ts canonicalSubject)
// authenticates the request as that user. Works on any TLS socket, so every HTTPS listener can reuse it.
// The chain's signatures are checked once per connection (the verdict is kept with the connection's peer,
// keyed by the anchor set it was checked against); each request re-checks only the validity dates, and a
// replaced or deleted mtls_trusted_ca (a new anchor set) re-checks the chain, so the change also applies to
// keep-alive connections opened before it.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { peerCertificateChain } from '../../lib/peer-chain.js';
import type { ClusterStore } from '../../store/cluster-store.js';
import { readCertificateRecord } from '../../store/certificate-records.js';
import type { Clock } from '../../lib/clock.js';
import { ApiError, type ErrorCode } from '../../lib/api-error.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import {
  buildTrustAnchors,
  checkPathValidity,
  MAX_PRESENTED_CHAIN,
  verifyClientChain,
  type ClientCertificateErrorCode,
  type ClientChainVerdict,
  type TrustAnchors,
} from '../../domain/client-certificate.js';
import { canonicalCertificateSubject, matchesAuthorizedSubjects } from '../../domain/rfc2253.js';
import { parseCertificateChain } from '../../domain/pem.js';
import type { UserRecord } from '../../domain/users.js';
import type { UsersRepository } from '../state/users-repository.js';
import { readCrlDocumentText } from '../../store/crl-records.js';
import { normalizeCrlDocument, revocationStateOf, type CrlDocument } from '../../domain/crl-document.js';
import { RevocationIndex, type RevocationVerdict } from '../../domain/crl-revocation.js';

/** Told of every revocation verdict that is not a plain pass (certplane CRL extension): log line and metric. */
export interface RevocationObserver {
  refused(subjectLine: string, verdict: Extract<RevocationVerdict, { ok: false }>): void;
  acceptedUnknown(subjectLine: string, warning: string): void;
}

interface ParsedPeer {
  chain: X509Certificate[];
  /** The leaf's subject in canonical RFC 2253 form: what users are looked up by. */
  subjectLine: string;
  /** The chain verdict of this connection and the anchor set it was reached with. */
  verdict?: { anchors: TrustAnchors; chain: ClientChainVerdict };
}

/** The login's own codes (401) for a certificate outside its validity period; an upload answers certificate_expired (406). */
const LOGIN_VALIDITY_CODE = {
  certificate_not_trusted: 'certificate_not_trusted',
  certificate_expired: 'client_certificate_expired',
  certificate_not_yet_valid: 'client_certificate_not_yet_valid',
} as const satisfies Record<ClientCertificateErrorCode, ErrorCode>;

export class CertificateAuthenticator {
  private readonly peers = new WeakMap<TLSSocket, ParsedPeer | null>();
  private anchors: { pem: string; set: TrustAnchors } | undefined;
  /** The CRL document as of its store revision, parsed once (certplane extension; undefined index: checking off). */
  private revocation: { modRevision: number; index: RevocationIndex | undefined } | undefined;

  constructor(
    private readonly store: ClusterStore,
    private readonly users: UsersRepository,
    private readonly clock: Clock,
    private readonly revocationObserver?: RevocationObserver,
  ) {}

  /** The client certificate chain of this connection, or null when none was presented. */
  peerOf(socket: TLSSocket): ParsedPeer | null {
    const cached = this.peers.get(socket);
    if (cached !== undefined) return cached;
    const parsed = parsePeer(socket);
    this.peers.set(socket, parsed);
    return parsed;
  }

  /** Authenticates the connection's certificate as a certificate user, or throws 401 saying why. */
  async authenticate(peer: ParsedPeer, cluster: ClusterDocument): Promise<UserRecord> {
    const anchors = await this.trustAnchors();
    if (anchors.size === 0) throw new ApiError('certificate_not_trusted', 'No mtls_trusted_ca is installed');
    if (peer.verdict?.anchors !== anchors) peer.verdict = { anchors, chain: verifyClientChain(peer.chain, anchors) };
    const chainVerdict = peer.verdict.chain;
    if (!chainVerdict.ok) throw new ApiError(chainVerdict.error_code, chainVerdict.description);
    const verdict = checkPathValidity(chainVerdict.path, this.clock.now());
    if (!verdict.ok) throw new ApiError(LOGIN_VALIDITY_CODE[verdict.error_code], verdict.description);
    // Revocation (certplane CRL extension, off by default): re-checked per request, so a CRL change applies to
    // open keep-alive connections too.
    const revocation = await this.revocationIndex();
    if (revocation !== undefined) {
      const checked = revocation.check(chainVerdict.path, anchors, this.clock.now());
      if (!checked.ok) {
        this.revocationObserver?.refused(peer.subjectLine, checked);
        throw new ApiError(checked.error_code, checked.description);
      }
      if (checked.warning !== undefined) this.revocationObserver?.acceptedUnknown(peer.subjectLine, checked.warning);
    }
    const leaf = peer.chain[0]!;
    const subjectOk = matchesAuthorizedSubjects(
      { subject: leaf.subject, subjectAltName: leaf.subjectAltName },
      cluster.mtls_client_cert_subject_validation_type,
      cluster.mtls_authorized_subjects,
    );
    if (!subjectOk) {
      throw new ApiError(
        'certificate_not_authorized',
        `The client certificate subject does not pass '${cluster.mtls_client_cert_subject_validation_type}' validation against mtls_authorized_subjects`,
      );
    }
    const user = await this.users.findBySubjectLine(peer.subjectLine);
    if (user === undefined || user.auth_method !== 'certificate') {
      throw new ApiError('unknown_certificate_user', `No certificate user has certificate_subject_line '${peer.subjectLine}'`);
    }
    return user;
  }

  private async revocationIndex(): Promise<RevocationIndex | undefined> {
    const stored = await readCrlDocumentText(this.store);
    if (this.revocation === undefined || this.revocation.modRevision !== stored.modRevision) {
      const value = stored.text === undefined ? undefined : (JSON.parse(stored.text) as Partial<CrlDocument>);
      const state = revocationStateOf(normalizeCrlDocument(value));
      this.revocation = { modRevision: stored.modRevision, index: state === undefined ? undefined : new RevocationIndex(state) };
    }
    return this.revocation.index;
  }

  private async trustAnchors(): Promise<TrustAnchors> {
    const installed = await readCertificateRecord(this.store, 'mtls_trusted_ca');
    if (installed === undefined) return NO_ANCHORS;
    const { certificate } = installed.record;
    if (this.anchors?.pem !== certificate) {
      const parsed = parseCertificateChain(certificate);
      this.anchors = { pem: certificate, set: buildTrustAnchors(parsed.ok ? parsed.value : []) };
    }
    return this.anchors.set;
  }
}

const NO_ANCHORS = buildTrustAnchors([]);

function parsePeer(socket: TLSSocket): ParsedPeer | null {
  // Read only as far as the length cap (+1, so that a longer chain is seen and refused).
  const chain = peerCertificateChain(socket, MAX_PRESENTED_CHAIN + 1);
  return chain[0] === undefined ? null : { chain, subjectLine: canonicalCertificateSubject(chain[0].subject) };
}
