// Internal certificate rotation against the store (issue 14 item 1): regenerates the internode certificates from
// the internal CA through the certificate records (one transaction, like a PUT of certificates: every node agent
// then writes the files and reloads), renews the internal CA with an overlap in which the old and the new CA are
// both in the internal trust bundle, and retires the old CA when the overlap is over. Used by the REST API
// (POST /v1/cluster/certificates/rotate, which then waits for every node: apply-contract.ts) and by the leader's
// scheduled job (rotation-scheduler.ts), which adds its job record and the leader fence to the same transaction.
//
// Every write is one transaction guarded by compares on everything it was derived from (the records it
// replaces, the internal CA, the renewal state), so a crash leaves the old state or the new one, and two
// rotations racing never both win: the loser re-reads (and, for the job, finds nothing due any more).
import { X509Certificate } from 'node:crypto';
import type { ClusterStore, Compare, KeyValue, TxnOp } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { eventPutOp } from '../store/event-log.js';
import { certificateRecordUnchanged, listCertificateRecords, putCertificateRecordOp, type CertificateRecord } from '../store/certificate-records.js';
import type { Clock } from '../lib/clock.js';
import { certificateFingerprint } from '../domain/pem.js';
import {
  INTERNODE_CERTIFICATE_NAMES,
  INTERNAL_CA_NAME,
  INTERNAL_TRUST_RECORD_NAME,
  certificatesOf,
  internalTrustBundle,
  isIssuedByInternalCa,
  isOverlapOver,
  planRotation,
  type CaRenewalOutcome,
  type InternalCaRenewal,
  type InternalRotationOperations,
  type InternodeCertificateName,
  type RotationActor,
  type RotationOutcome,
} from '../domain/internal-rotation.js';

export interface PemPair {
  certificate: string;
  key: string;
}

/** The certificate authority work (src/node/cluster-pki.ts), injected by the composition root. */
export interface InternalPki {
  issueInternode(internalCa: PemPair, clusterName: string, now: Date): Promise<PemPair>;
  generateCa(clusterName: string, now: Date): Promise<PemPair>;
}

export interface InternalRotationDeps {
  store: ClusterStore;
  clock: Clock;
  pki: InternalPki;
}

/** What the scheduled job adds to a rotation's transaction: its own record and the leader fence. */
export interface RotationGuard {
  compare: Compare[];
  /** The job's own puts, given what the transaction rotates. */
  success: (rotated: InternodeCertificateName[]) => TxnOp[];
}

/** The rotation write lost a race (a concurrent change, or the fence): nothing was written. */
export class RotationConflictError extends Error {
  override readonly name = 'RotationConflictError';
}

const MAX_ATTEMPTS = 10;

/** The internal state a rotation is derived from, with the revisions its write compares against. */
interface InternalState {
  ca: PemPair;
  caKv: KeyValue;
  renewal: InternalCaRenewal | undefined;
  renewalKv: KeyValue | undefined;
  clusterName: string;
  records: Map<string, { record: CertificateRecord; modRevision: number }>;
}

export class InternalRotation implements InternalRotationOperations {
  constructor(private readonly deps: InternalRotationDeps) {}

  /** Regenerates the asked internode certificates that are internal (never a customer-provided one). */
  async rotateInternode(request: { names: readonly InternodeCertificateName[]; actor: RotationActor }): Promise<RotationOutcome> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const outcome = await this.tryRotate({ names: request.names, actor: request.actor });
      if (outcome !== undefined) return outcome;
    }
    throw new RotationConflictError('the internal certificates were changed concurrently too often; retry');
  }

  /**
   * One attempt, for the scheduled job: with `dueWithinDays` only certificates that expire within that many days;
   * `guard` joins the transaction (undefined when it lost a race, RotationConflictError never thrown here).
   */
  async tryRotate(request: { names: readonly InternodeCertificateName[]; actor: RotationActor; dueWithinDays?: number; guard?: RotationGuard }): Promise<RotationOutcome | undefined> {
    const state = await this.readState();
    const now = this.deps.clock.now();
    const internalCas = this.trustedCas(state);
    const plan = planRotation({
      asked: request.names,
      records: INTERNODE_CERTIFICATE_NAMES.map((name) => ({ name, certificate: state.records.get(name)?.record.certificate })),
      internalCas,
      now,
      ...(request.dueWithinDays === undefined ? {} : { dueWithinDays: request.dueWithinDays }),
    });
    const issued = await Promise.all(plan.rotate.map(async (name) => ({ name, pair: await this.deps.pki.issueInternode(state.ca, state.clusterName, now) })));
    const compare: Compare[] = [...this.stateCompares(state), ...(request.guard?.compare ?? [])];
    const success: TxnOp[] = [...(request.guard?.success(plan.rotate) ?? [])];
    const rotated: RotationOutcome['rotated'] = [];
    const time = now.toISOString();
    for (const { name, pair } of issued) {
      const current = state.records.get(name);
      compare.push(certificateRecordUnchanged(name, current));
      success.push(putCertificateRecordOp(name, pair));
      const leaf = new X509Certificate(pair.certificate);
      const oldLeaf = current === undefined ? undefined : certificatesOf(current.record.certificate)[0];
      const entry = {
        name,
        old_fingerprint: oldLeaf === undefined ? null : certificateFingerprint(oldLeaf),
        new_fingerprint: certificateFingerprint(leaf),
        not_after: new Date(leaf.validTo).toISOString(),
      };
      rotated.push(entry);
      success.push(eventPutOp(this.auditEvent(time, request.actor, name, entry.old_fingerprint, entry.new_fingerprint, oldLeaf === undefined ? null : new Date(oldLeaf.validTo).toISOString(), entry.not_after)));
    }
    if (rotated.length === 0) return { revision: undefined, rotated, skipped: plan.skipped };
    success.push(...this.trustBundleOps(state));
    const result = await this.deps.store.txn({ compare, success });
    if (!result.succeeded) return undefined;
    return { revision: result.revision, rotated, skipped: plan.skipped };
  }

  /**
   * Phase 1 of a CA renewal: a new internal CA, and the trust bundle of new + old CA, in one transaction. The
   * caller then waits until every node has the bundle, and only then re-issues the internode certificates from the
   * new CA (rotateInternode), so no node ever meets a certificate from a CA it does not trust yet. A renewal
   * already under way is not started again (its overlap is returned).
   */
  async renewInternalCa(request: { actor: RotationActor; overlapSeconds: number }): Promise<CaRenewalOutcome> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const state = await this.readState();
      if (state.renewal !== undefined && state.renewalKv !== undefined) {
        return { revision: undefined, publishedRevision: state.renewalKv.modRevision, renewal: state.renewal, new_ca_fingerprint: fingerprintOf(state.ca.certificate) };
      }
      const now = this.deps.clock.now();
      const next = await this.deps.pki.generateCa(state.clusterName, now);
      const renewal: InternalCaRenewal = {
        previous_ca: state.ca.certificate,
        started_at: now.toISOString(),
        retire_after: new Date(now.getTime() + request.overlapSeconds * 1000).toISOString(),
      };
      const oldCa = new X509Certificate(state.ca.certificate);
      const newCa = new X509Certificate(next.certificate);
      const result = await this.deps.store.txn({
        compare: this.stateCompares(state),
        success: [
          { type: 'put', key: keys.internalCa, value: JSON.stringify(next) },
          { type: 'put', key: keys.internalCaRenewal, value: JSON.stringify(renewal) },
          putCertificateRecordOp(INTERNAL_TRUST_RECORD_NAME, { certificate: internalTrustBundle(next.certificate, renewal) }),
          eventPutOp(
            this.auditEvent(
              now.toISOString(),
              request.actor,
              INTERNAL_CA_NAME,
              certificateFingerprint(oldCa),
              certificateFingerprint(newCa),
              new Date(oldCa.validTo).toISOString(),
              new Date(newCa.validTo).toISOString(),
            ),
          ),
        ],
      });
      if (result.succeeded) return { revision: result.revision, publishedRevision: result.revision, renewal, new_ca_fingerprint: certificateFingerprint(newCa) };
    }
    throw new RotationConflictError('the internal CA was changed concurrently too often; retry');
  }

  /**
   * The end of a CA renewal (the leader's job, once retire_after has passed): internode certificates still from
   * the old CA are re-issued first (one pass), and only when none is left the old CA leaves the trust bundle.
   * Returns what it did; undefined when it lost a race.
   */
  async retireExpiredOverlap(actor: RotationActor, guard?: RotationGuard): Promise<'none' | 'reissued' | 'retired' | undefined> {
    const state = await this.readState();
    if (state.renewal === undefined || !isOverlapOver(state.renewal, this.deps.clock.now())) return 'none';
    const current = [new X509Certificate(state.ca.certificate)];
    const stale = INTERNODE_CERTIFICATE_NAMES.filter((name) => {
      const record = state.records.get(name)?.record;
      // Customer-provided ones are not the CA's business; internal ones must come from the current CA.
      return record !== undefined && isIssuedByInternalCa(record.certificate, this.trustedCas(state)) && !isIssuedByInternalCa(record.certificate, current);
    });
    if (stale.length > 0) {
      const outcome = await this.tryRotate({ names: stale, actor, ...(guard === undefined ? {} : { guard }) });
      return outcome === undefined ? undefined : 'reissued';
    }
    const time = this.deps.clock.now().toISOString();
    const previous = new X509Certificate(state.renewal.previous_ca);
    const retiredEvent = {
      time,
      type: 'internal_ca_retired',
      severity: 'INFO',
      user_uid: actor.uid,
      user_email: actor.email,
      certificate_name: INTERNAL_CA_NAME,
      old_fingerprint: certificateFingerprint(previous),
      description: 'The previous internal CA left the internal trust bundle: its overlap is over',
    };
    const result = await this.deps.store.txn({
      compare: [...this.stateCompares(state), ...(guard?.compare ?? [])],
      success: [
        ...(guard?.success([]) ?? []),
        { type: 'delete', key: keys.internalCaRenewal },
        putCertificateRecordOp(INTERNAL_TRUST_RECORD_NAME, { certificate: internalTrustBundle(state.ca.certificate, undefined) }),
        eventPutOp(retiredEvent),
      ],
    });
    return result.succeeded ? 'retired' : undefined;
  }

  private async readState(): Promise<InternalState> {
    const [caKv, renewalKv, clusterKv, listing] = await Promise.all([
      this.deps.store.get(keys.internalCa),
      this.deps.store.get(keys.internalCaRenewal),
      this.deps.store.get(keys.cluster),
      listCertificateRecords(this.deps.store),
    ]);
    if (caKv === undefined) throw new Error('the cluster has no internal CA');
    const ca = JSON.parse(caKv.value) as PemPair;
    const clusterName = clusterKv === undefined ? undefined : (JSON.parse(clusterKv.value) as { name?: unknown }).name;
    return {
      ca,
      caKv,
      renewal: renewalKv === undefined ? undefined : (JSON.parse(renewalKv.value) as InternalCaRenewal),
      renewalKv,
      clusterName: typeof clusterName === 'string' && clusterName !== '' ? clusterName : 'cluster.local',
      records: listing.records,
    };
  }

  /** The internal CA certificates a record may come from: the current one and, during an overlap, the previous. */
  private trustedCas(state: InternalState): X509Certificate[] {
    return certificatesOf(internalTrustBundle(state.ca.certificate, state.renewal));
  }

  private stateCompares(state: InternalState): Compare[] {
    return [
      { key: keys.internalCa, target: 'mod', op: '==', value: state.caKv.modRevision },
      state.renewalKv === undefined
        ? { key: keys.internalCaRenewal, target: 'version', op: '==', value: 0 }
        : { key: keys.internalCaRenewal, target: 'mod', op: '==', value: state.renewalKv.modRevision },
    ];
  }

  /** The trust bundle record, written with any rotation when it is missing or out of date. */
  private trustBundleOps(state: InternalState): TxnOp[] {
    const bundle = internalTrustBundle(state.ca.certificate, state.renewal);
    const current = state.records.get(INTERNAL_TRUST_RECORD_NAME);
    if (current?.record.certificate === bundle) return [];
    return [putCertificateRecordOp(INTERNAL_TRUST_RECORD_NAME, { certificate: bundle })];
  }

  private auditEvent(time: string, actor: RotationActor, name: string, oldFingerprint: string | null, newFingerprint: string, oldNotAfter: string | null, newNotAfter: string) {
    // The shape of a certificate change in the audit trail (api/state/audit-log.ts AuditEvent), marked as a rotation.
    return {
      time,
      type: 'certificate_updated' as const,
      user_uid: actor.uid,
      user_email: actor.email,
      certificate_name: name,
      old_fingerprint: oldFingerprint,
      new_fingerprint: newFingerprint,
      old_not_after: oldNotAfter,
      new_not_after: newNotAfter,
      reason: 'internal_rotation',
    };
  }
}

function fingerprintOf(pem: string): string {
  return certificateFingerprint(new X509Certificate(pem));
}
