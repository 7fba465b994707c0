// The OCSP poller: keeps the cached OCSP status of the proxy certificate fresh in the store, so every node
// staples the same response and a restart staples at once. Runs on one node (the leader: start()/close() are
// called by the composition root as leadership comes and goes); its writes carry the leader fence.
//
// Level-triggered: each evaluation reads settings, the proxy certificate and the cached record from the store
// and derives what to do from them (domain/ocsp-status.ts nextQueryDueAt), so a restart, a failover or a query
// made by POST /v1/ocsp/test all continue the same schedule.
//
// States and transitions:
//   stopped --start()--> evaluating
//   evaluating --disabled / no proxy certificate--> idle --settings or certificate change--> evaluating
//   evaluating --query due (never queried, due time passed, proxy certificate replaced, settings changed)--> querying
//   evaluating --not due--> waiting(regular: query_frequency | recovery: recovery_frequency) --timer or change--> evaluating
//   querying --outcome recorded--> evaluating   (GOOD/REVOKED/UNKNOWN answers → regular; failures → recovery until
//                                               recovery_max_tries, then the cached status is dropped + alert → regular)
//   querying --outcome discarded (fence lost or repeated conflicts)--> backoff --timer--> evaluating
//   evaluating --store error--> backoff --timer--> evaluating
//   any --close()--> closed (an in-flight query is aborted)
// An evaluation is a pass of a LoopWorker (lib/loop.ts): store and certificate changes wake it, waiting and
// backoff are its timer.
import { LoopWorker, type LoopTimer, type WorkerLog } from '../lib/loop.js';
import type { ClusterStore, Compare, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';
import { certificateRecordKey } from '../store/certificate-records.js';
import type { Clock } from '../lib/clock.js';
import type { OcspSettings } from '../domain/ocsp-settings.js';
import { nextQueryDueAt } from '../domain/ocsp-status.js';
import { queryTarget, readOcspContext, recordQueryOutcome, type OcspTarget, type QueryOutcome } from './ocsp-records.js';

export type OcspPollerState =
  | { name: 'stopped' }
  | { name: 'evaluating' }
  | { name: 'idle'; reason: string }
  | { name: 'waiting'; mode: 'regular' | 'recovery'; dueAt: Date }
  | { name: 'querying'; responderUrl: string }
  | { name: 'backoff'; reason: string; retryAt: Date }
  | { name: 'closed' };

/** The logging the poller needs (pino and Fastify loggers fit). */
export type OcspLog = WorkerLog;

/** Timers, injected with the clock so the schedule is testable without sleeping. */
export type PollerTimer = LoopTimer;

export interface OcspPollerDeps {
  store: ClusterStore;
  clock: Clock;
  log: OcspLog;
  timer?: PollerTimer;
  /** The leader fence added to every write (LeaderElection.fence). */
  fence?: () => Compare | undefined;
  /** Replaces the real query (unit tests). */
  query?: (target: OcspTarget, settings: OcspSettings, signal: AbortSignal) => Promise<QueryOutcome>;
  /** Wait after a store error or a discarded write (default 5 s). */
  retryDelayMs?: number;
}

export class OcspPoller extends LoopWorker<OcspPollerState> {
  private readonly abort = new AbortController();
  private seenSettingsRevision: number | undefined;
  /** Queries made (for tests and diagnostics). */
  queries = 0;

  constructor(private readonly deps: OcspPollerDeps) {
    super({ ...deps, failure: 'OCSP poller could not read or write the store; retrying', retryDelayMs: deps.retryDelayMs ?? 5000 });
  }

  protected follow(wake: () => void): Promise<Watch[]> {
    return followPrefixesWaking(this.deps.store, [keys.ocspPrefix, certificateRecordKey('proxy')], wake);
  }

  /** Stops; an in-flight query is aborted. */
  override async close(): Promise<void> {
    const closing = super.close();
    this.abort.abort();
    await closing;
  }

  protected pass(): Promise<void> {
    return this.evaluate();
  }

  private async evaluate(): Promise<void> {
    this.state = { name: 'evaluating' };
    const context = await readOcspContext(this.deps.store);
    if (this.isClosed()) return;
    const settingsChanged = this.seenSettingsRevision !== undefined && context.settingsRevision !== this.seenSettingsRevision;
    this.seenSettingsRevision = context.settingsRevision;
    const { settings, target } = context;
    if (!settings.ocsp_functionality) {
      this.state = { name: 'idle', reason: 'OCSP is disabled' };
      return;
    }
    if (target === undefined) {
      this.state = { name: 'idle', reason: 'no proxy certificate' };
      return;
    }
    const record = context.record?.certificate_fingerprint === target.fingerprint ? context.record : undefined;
    const due = nextQueryDueAt(record, settings);
    const now = this.deps.clock.now();
    if (!settingsChanged && due !== 'now' && due.getTime() > now.getTime()) {
      const recovering = record !== undefined && record.consecutive_failures > 0 && !record.recovery_exhausted;
      this.state = { name: 'waiting', mode: recovering ? 'recovery' : 'regular', dueAt: due };
      this.loop.schedule(due.getTime() - now.getTime());
      return;
    }
    await this.queryNow(target, settings);
  }

  private async queryNow(target: OcspTarget, settings: OcspSettings): Promise<void> {
    this.state = { name: 'querying', responderUrl: target.responderUrl };
    this.queries += 1;
    const query = this.deps.query ?? ((t, s, signal) => queryTarget(t, s, this.deps.clock, signal));
    const outcome = await query(target, settings, this.abort.signal);
    if (this.isClosed()) return;
    if (outcome.ok) {
      this.deps.log.info({ responder_url: target.responderUrl, cert_status: outcome.response.cert_status, next_update: outcome.response.next_update }, 'OCSP status updated');
    } else {
      this.deps.log.warn({ responder_url: target.responderUrl, failure: outcome.error.kind, reason: outcome.error.message }, 'OCSP query failed');
    }
    const written = await recordQueryOutcome({
      store: this.deps.store,
      clock: this.deps.clock,
      target,
      outcome,
      ...(this.deps.fence === undefined ? {} : { fence: this.deps.fence }),
    });
    if (this.isClosed()) return;
    for (const event of written?.events ?? []) {
      this.deps.log.error({ alert: event.type, state: event.state, responder_url: event.responder_url }, event.description);
    }
    const certificate = await this.deps.store.get(certificateRecordKey('proxy'));
    if (written === undefined && certificate?.modRevision === target.certificateRevision) {
      // Not the proxy certificate changing under us: the fence failed or writers kept racing. Do not re-query at once.
      const retryInMs = this.loop.backOff(settings.recovery_frequency * 1000);
      this.enterBackoff('the OCSP status could not be recorded (not the leader, or concurrent writes)', retryInMs);
      this.deps.log.warn({}, 'OCSP status not recorded (leadership lost or concurrent writes); retrying later');
      return;
    }
    // Re-evaluate from the store: schedules the next query from the record just written.
    this.loop.wake();
  }
}
