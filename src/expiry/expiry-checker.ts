// The certificate-expiry checker: raises and clears `cluster_certs_about_to_expire`,
// `node_internal_certs_about_to_expire` and, for the cluster's internal CA (keys.internalCa, written at cluster
// creation), `cluster_ca_cert_about_to_expire` (digest §5.4) as events in the cluster event log (GET /v1/logs). Runs on
// one node (the leader: start()/close() are called by the composition root as leadership comes and goes); its
// writes carry the leader fence.
//
// Level-triggered: each check reads the installed certificates, the cluster document and the raised alerts from
// the store and derives what to raise and clear (domain/certificate-expiry.ts evaluateExpiryAlerts). The raised set
// lives in the store, so a restart or a new leader does not raise an alert again.
//
// States and transitions:
//   stopped --start()--> checking
//   checking --nothing to write, or written--> waiting(next hourly check) --timer / certificate or cluster change--> checking
//   checking --write refused (fence lost, or a concurrent change)--> checking again if a change arrived, else backoff
//   checking --store error--> backoff --timer / change--> checking
//   any --close()--> closed
// A check is a pass of a LoopWorker (lib/loop.ts): changes wake it, the hourly check is its interval.
import { LoopWorker, type LoopTimer, type WorkerLog } from '../lib/loop.js';
import type { X509Certificate } from 'node:crypto';
import type { ClusterStore, Compare, TxnOp, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { eventPutOp } from '../store/event-log.js';
import { alertChangeOps, type AlertChangeRequest } from '../alerts/alert-records.js';
import { CERTIFICATE_RECORD_PREFIX, certificateRecordUnchanged, listCertificateRecords, parseCertificateRecord } from '../store/certificate-records.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';
import type { Clock } from '../lib/clock.js';
import { CERTIFICATE_NAMES, isCertificateName } from '../domain/certificate-names.js';
import { certificateFingerprint, certificateNotAfter, parseCertificateChain } from '../domain/pem.js';
import type { ClusterDocument } from '../domain/cluster-settings.js';
import {
  evaluateExpiryAlerts,
  expiryAlertSettings,
  daysToExpiry,
  type CertificateExpiryAlertEvent,
  type ExpiryAlertName,
  type ExpiryAlertSettings,
  type ExpiryEvaluation,
  type InstalledCertificateExpiry,
  type RaisedExpiryAlerts,
} from '../domain/certificate-expiry.js';

export type ExpiryCheckerState =
  | { name: 'stopped' }
  | { name: 'checking' }
  | { name: 'waiting'; dueAt: Date }
  | { name: 'backoff'; reason: string; retryAt: Date }
  | { name: 'closed' };

/** The logging the checker needs (pino and Fastify loggers fit). */
export type ExpiryLog = WorkerLog;

/** Timers, injected with the clock so the schedule is testable without sleeping. */
export type ExpiryTimer = LoopTimer;

export const HOUR_MS = 3_600_000;

export interface ExpiryCheckerDeps {
  store: ClusterStore;
  clock: Clock;
  log: ExpiryLog;
  timer?: ExpiryTimer;
  /** The leader fence added to every write (LeaderElection.fence). */
  fence?: () => Compare | undefined;
  /** Time between checks without a change (default one hour). */
  intervalMs?: number;
  /** Wait after a store error or a refused write (default 5 s). */
  retryDelayMs?: number;
}

export class ExpiryChecker extends LoopWorker<ExpiryCheckerState> {
  private readonly intervalMs: number;
  /** Checks made (tests and diagnostics). */
  checks = 0;

  constructor(private readonly deps: ExpiryCheckerDeps) {
    const intervalMs = deps.intervalMs ?? HOUR_MS;
    super({ ...deps, failure: 'certificate expiry check could not read or write the store; retrying', retryDelayMs: deps.retryDelayMs ?? 5000, intervalMs });
    this.intervalMs = intervalMs;
  }

  /** Follows certificates, the cluster document and the internal CA. */
  protected follow(wake: () => void): Promise<Watch[]> {
    return followPrefixesWaking(this.deps.store, [CERTIFICATE_RECORD_PREFIX, keys.cluster, keys.internalCa], wake);
  }

  protected pass(): Promise<void> {
    return this.check();
  }

  private async check(): Promise<void> {
    this.state = { name: 'checking' };
    this.checks += 1;
    const { store, clock } = this.deps;
    const [installed, clusterKv, raisedKv, internalCaKv] = await Promise.all([
      listCertificateRecords(store),
      store.get(keys.cluster),
      store.get(keys.expiryAlerts),
      store.get(keys.internalCa),
    ]);
    if (this.isClosed()) return;
    const revisions = new Map<string, number>();
    const certificates: InstalledCertificateExpiry[] = [];
    for (const [name, { record, modRevision }] of installed.records) {
      if (!isCertificateName(name)) continue;
      revisions.set(name, modRevision);
      const leaf = leafOf(record.certificate);
      if (leaf === undefined) {
        this.deps.log.warn({ certificate: name }, 'certificate expiry check: the installed certificate cannot be parsed; skipped');
        continue;
      }
      certificates.push({ name, fingerprint: certificateFingerprint(leaf), notAfter: certificateNotAfter(leaf) });
    }
    if (internalCaKv !== undefined) {
      // The CA certificate alone (the key is never read here).
      const ca = leafOf(parseCertificateRecord(internalCaKv.value).certificate);
      if (ca === undefined) this.deps.log.warn({ certificate: 'internal_ca' }, 'certificate expiry check: the internal CA cannot be parsed; skipped');
      else certificates.push({ name: 'internal_ca', fingerprint: certificateFingerprint(ca), notAfter: certificateNotAfter(ca) });
    }
    const cluster = clusterKv === undefined ? undefined : (JSON.parse(clusterKv.value) as Partial<ClusterDocument>);
    const previous = raisedKv === undefined ? {} : (JSON.parse(raisedKv.value) as RaisedExpiryAlerts);
    const now = clock.now();
    const settings = expiryAlertSettings(cluster);
    const next = evaluateExpiryAlerts({ now, certificates, settings, raised: previous });

    if (next.events.length > 0 || JSON.stringify(next.raised) !== JSON.stringify(previous)) {
      // Written only if nothing it was derived from changed meanwhile (every certificate key, the cluster document,
      // the raised set) and this node still leads.
      const compare: Compare[] = [
        ...CERTIFICATE_NAMES.map((name): Compare => {
          const revision = revisions.get(name);
          return certificateRecordUnchanged(name, revision === undefined ? undefined : { modRevision: revision });
        }),
        { key: keys.cluster, target: 'mod', op: '==', value: clusterKv?.modRevision ?? 0 },
        { key: keys.internalCa, target: 'mod', op: '==', value: internalCaKv?.modRevision ?? 0 },
        { key: keys.expiryAlerts, target: 'mod', op: '==', value: raisedKv?.modRevision ?? 0 },
      ];
      // The alert records (GET /v1/cluster/alerts, /v1/nodes/alerts) move with the raised set; each event goes
      // into the log and the delivery queue through the alert store (src/alerts/alert-records.ts).
      const alerts = await alertChangeOps(store, expiryAlertChanges(previous, next, settings), now.toISOString());
      if (this.isClosed()) return;
      compare.push(...alerts.compare);
      const fence = this.deps.fence?.();
      if (fence !== undefined) compare.push(fence);
      const success: TxnOp[] = [{ type: 'put', key: keys.expiryAlerts, value: JSON.stringify(next.raised) }, ...alerts.ops];
      const result = await store.txn({ compare, success });
      if (this.isClosed()) return;
      if (!result.succeeded) {
        if (!this.loop.wakePending) {
          // No change arrived that explains the refusal: most likely the fence (no longer the leader). Retry later.
          this.enterBackoff('the expiry alerts could not be recorded (not the leader, or concurrent writes)', this.loop.backOff());
          this.deps.log.warn({}, 'certificate expiry alerts not recorded (leadership lost or concurrent writes); retrying later');
        }
        return;
      }
      for (const event of next.events) {
        const fields = { alert: event.type, state: event.state, certificate: event.certificate_name, not_after: event.not_after };
        if (event.state) this.deps.log.warn(fields, event.description);
        else this.deps.log.info(fields, event.description);
      }
    }
    // The loop runs the next check after intervalMs.
    this.state = { name: 'waiting', dueAt: new Date(now.getTime() + this.intervalMs) };
  }
}

/** The leaf of an uploaded chain (its first certificate), or undefined when it does not parse. */
function leafOf(chainPem: string): X509Certificate | undefined {
  const chain = parseCertificateChain(chainPem);
  return chain.ok ? chain.value[0] : undefined;
}

/** Into the cluster event log like every event (src/store/event-log.ts), so GET /v1/logs lists it; the index
 *  keeps the events of one check (a clear, then the raise for a replacement) in order. */
export function expiryEventOp(event: CertificateExpiryAlertEvent, index: number): TxnOp {
  return eventPutOp(event, index);
}

/**
 * The alert-store changes of one check: each event raises or clears its certificate as a subject of its alert (the
 * event itself is what is logged and delivered); a certificate dropped from the raised set without an event (its
 * alert was switched off) is cleared quietly.
 */
export function expiryAlertChanges(previous: RaisedExpiryAlerts, next: ExpiryEvaluation, settings: Record<ExpiryAlertName, ExpiryAlertSettings>): AlertChangeRequest[] {
  const requests: AlertChangeRequest[] = next.events.map((event) => {
    const value: Record<string, unknown> = {
      certificate: event.certificate_name,
      not_after: event.not_after,
      days_left: daysToExpiry(new Date(event.not_after), new Date(event.time)),
      threshold: String(settings[event.type].thresholdDays),
    };
    return {
      change: { name: event.type, subject: event.certificate_name, raised: event.state, severity: 'WARNING', value, description: event.description },
      event: { ...event },
    };
  });
  for (const [name, was] of Object.entries(previous) as Array<[keyof RaisedExpiryAlerts, NonNullable<RaisedExpiryAlerts[keyof RaisedExpiryAlerts]>]>) {
    if (next.raised[name] !== undefined || next.events.some((e) => e.certificate_name === name)) continue;
    requests.push({ change: { name: was.alert, subject: name, raised: false, severity: 'WARNING', value: {}, description: `The ${name} alert was switched off` }, quiet: true });
  }
  return requests;
}
