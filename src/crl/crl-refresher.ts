// The CRL refresher (certplane extension, README "Certificate revocation lists"): runs on the leader only.
// While crl_checking.enabled and .fetch are on, it fetches the CRL of every distribution point it knows — the
// cRLDistributionPoints of the trust anchors for client certificates and crl_checking.distribution_points — and
// stores each CRL that verifies against an anchor and is newer than the one stored for its CA (nodes then apply
// it like an upload). Each CRL is fetched again before its next_update (domain nextFetchTime). A fetch that
// fails (hangs past fetch_timeout_seconds, too large, not a CRL, signed by the wrong key, older) changes no CRL:
// the last good one stays, and the failure is a crl_fetch_failed event (WARNING) and a log line. While checking
// is on it also raises and clears crl_missing_or_expired events per CA (a CA without a current CRL).
//
// States and transitions (LoopWorker, lib/loop.ts):
//   stopped --start()--> checking --done--> waiting(next pass) --timer / CRL, anchor or database change--> checking
//   checking --write refused (fence lost, or a concurrent change)--> backoff
//   checking --store error--> backoff --timer / change--> checking
//   any --close()--> closed
import { LoopWorker, type LoopTimer, type WorkerLog } from '../lib/loop.js';
import type { ClusterStore, Compare, TxnOp, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { eventPutOp } from '../store/event-log.js';
import { alertChangeOps } from '../alerts/alert-records.js';
import { certificateRecordKey } from '../store/certificate-records.js';
import { readClientTrustAnchorPems, readCrlDocument } from '../store/crl-records.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';
import type { Clock } from '../lib/clock.js';
import {
  clientTrustAnchors,
  distributionPointsOf,
  MAX_FETCH_URLS,
  MAX_FETCHED_CRL_BYTES,
  nextFetchTime,
  normalizeCrlDocument,
  unknownRevocationStatus,
  verifyCrl,
  withFetchedCrl,
  type CrlDocument,
  type StoredCrl,
} from '../domain/crl-document.js';
import { parseCertificateChain } from '../domain/pem.js';
import { fetchCrl, type CrlFetcher } from './crl-fetch.js';

export type CrlRefresherState =
  | { name: 'stopped' }
  | { name: 'checking' }
  | { name: 'waiting'; dueAt: Date }
  | { name: 'backoff'; reason: string; retryAt: Date }
  | { name: 'closed' };

export interface CrlRefresherDeps {
  store: ClusterStore;
  clock: Clock;
  log: WorkerLog;
  timer?: LoopTimer;
  fence?: () => Compare | undefined;
  fetch?: CrlFetcher;
  /** Time between passes (a pass fetches only what is due). Default 5 s. */
  intervalMs?: number;
  retryDelayMs?: number;
}

/** What GET /v1/cluster/crls shows as fetch_status, and the raised crl_missing_or_expired events. */
export interface CrlFetchStatus {
  urls: Record<string, { last_attempt: string; last_success?: string; error?: string; issuer?: string; next_fetch?: string }>;
  unknown: Record<string, string>;
}

export interface CrlEvent {
  time: string;
  type: 'crl_fetched' | 'crl_fetch_failed' | 'crl_missing_or_expired';
  severity: 'INFO' | 'WARNING';
  description: string;
  url?: string;
  issuer?: string;
  /** crl_missing_or_expired: true raised, false cleared. */
  state?: boolean;
}

export class CrlRefresher extends LoopWorker<CrlRefresherState> {
  /** When each URL is due again (in memory: a new leader fetches everything once). */
  private readonly due = new Map<string, number>();
  private lastSettings = '';
  passes = 0;

  constructor(private readonly deps: CrlRefresherDeps) {
    super({ ...deps, failure: 'CRL refresh could not read or write the store; retrying', retryDelayMs: deps.retryDelayMs ?? 5000, intervalMs: deps.intervalMs ?? 5000 });
  }

  protected follow(wake: () => void): Promise<Watch[]> {
    return followPrefixesWaking(this.deps.store, [keys.crls, certificateRecordKey('mtls_trusted_ca'), keys.bdbPrefix], wake);
  }

  protected async pass(): Promise<void> {
    this.state = { name: 'checking' };
    this.passes += 1;
    const { store, clock, log } = this.deps;
    const now = clock.now();
    const stored = await readCrlDocument(store);
    const doc = normalizeCrlDocument(stored.value as Partial<CrlDocument> | undefined);
    const statusKv = await store.get(keys.crlFetchStatus);
    const previous: CrlFetchStatus = statusKv === undefined ? { urls: {}, unknown: {} } : (JSON.parse(statusKv.value) as CrlFetchStatus);
    const status: CrlFetchStatus = { urls: { ...previous.urls }, unknown: {} };
    const events: CrlEvent[] = [];
    let crls: StoredCrl[] = doc.crls;
    let changed = false;
    if (doc.settings.enabled) {
      const pems = await readClientTrustAnchorPems(store);
      const anchors = clientTrustAnchors(pems);
      if (doc.settings.fetch) {
        const settingsKey = JSON.stringify(doc.settings);
        if (settingsKey !== this.lastSettings) {
          // New settings (a timeout, a URL, fetch just turned on): everything is due now.
          this.due.clear();
          this.lastSettings = settingsKey;
        }
        const urls = fetchUrls(pems, doc.settings.distribution_points);
        // Only the distribution points still known are reported.
        for (const known of Object.keys(status.urls)) if (!urls.includes(known)) delete status.urls[known];
        for (const url of urls) {
          if ((this.due.get(url) ?? 0) > now.getTime()) continue;
          const outcome = await this.fetchOne(url, anchors, doc, crls, now);
          if (this.isClosed()) return;
          status.urls[url] = { ...outcome.entry, ...(previous.urls[url]?.last_success === undefined || outcome.entry.last_success !== undefined ? {} : { last_success: previous.urls[url].last_success }) };
          if (outcome.crls !== undefined) {
            crls = outcome.crls;
            changed = true;
          }
          if (outcome.event !== undefined) events.push(outcome.event);
        }
      }
      status.unknown = unknownRevocationStatus(anchors, crls, now);
      for (const [issuer, why] of Object.entries(status.unknown)) {
        if (previous.unknown[issuer] === undefined) {
          events.push({ time: now.toISOString(), type: 'crl_missing_or_expired', severity: 'WARNING', state: true, issuer, description: `Revocation status of certificates issued by ${issuer} is unknown: ${why} (missing_or_expired: ${doc.settings.missing_or_expired})` });
        }
      }
    }
    for (const issuer of Object.keys(previous.unknown)) {
      if (status.unknown[issuer] === undefined) {
        events.push({ time: now.toISOString(), type: 'crl_missing_or_expired', severity: 'INFO', state: false, issuer, description: `Revocation status of certificates issued by ${issuer} is known again (or checking is off)` });
      }
    }
    const statusChanged = JSON.stringify(status) !== JSON.stringify(previous);
    if (changed || statusChanged || events.length > 0) {
      const compare: Compare[] = [
        { key: keys.crls, target: 'mod', op: '==', value: stored.modRevision },
        { key: keys.crlFetchStatus, target: 'mod', op: '==', value: statusKv?.modRevision ?? 0 },
      ];
      const fence = this.deps.fence?.();
      if (fence !== undefined) compare.push(fence);
      // crl_missing_or_expired events raise and clear cluster_crl_missing_or_expired per issuer (alerts, e-mail, webhook).
      const unknownEvents = events.filter((event) => event.type === 'crl_missing_or_expired');
      const otherEvents = events.filter((event) => event.type !== 'crl_missing_or_expired');
      const alert = await alertChangeOps(
        store,
        unknownEvents.map((event) => ({
          change: { name: 'cluster_crl_missing_or_expired', subject: event.issuer ?? '', raised: event.state === true, severity: 'WARNING', value: { issuer: event.issuer }, description: event.description },
          event: { ...event, state: event.state === true },
        })),
        now.toISOString(),
        otherEvents.length,
      );
      compare.push(...alert.compare);
      const success: TxnOp[] = [{ type: 'put', key: keys.crlFetchStatus, value: JSON.stringify(status) }, ...otherEvents.map((event, index) => eventPutOp(event, index)), ...alert.ops];
      if (changed) success.push({ type: 'put', key: keys.crls, value: JSON.stringify({ ...doc, crls }) });
      const result = await store.txn({ compare, success });
      if (this.isClosed()) return;
      if (!result.succeeded) {
        // Fetched CRLs are fetched again on the next pass (not the leader any more, or a concurrent upload).
        this.due.clear();
        if (!this.loop.wakePending) this.enterBackoff('the CRLs could not be recorded (not the leader, or concurrent writes)', this.loop.backOff());
        return;
      }
      for (const event of events) {
        const fields = { event: event.type, url: event.url, issuer: event.issuer };
        if (event.severity === 'WARNING') log.warn(fields, event.description);
        else log.info(fields, event.description);
      }
    }
    this.state = { name: 'waiting', dueAt: new Date(now.getTime() + (this.deps.intervalMs ?? 5000)) };
  }

  private async fetchOne(url: string, anchors: ReturnType<typeof clientTrustAnchors>, doc: CrlDocument, crls: StoredCrl[], now: Date): Promise<{ entry: CrlFetchStatus['urls'][string]; crls?: StoredCrl[]; event?: CrlEvent }> {
    const intervalMs = doc.settings.refresh_interval_seconds * 1000;
    const attempt = now.toISOString();
    try {
      const body = await (this.deps.fetch ?? fetchCrl)(url, { timeoutMs: doc.settings.fetch_timeout_seconds * 1000, maxBytes: MAX_FETCHED_CRL_BYTES });
      const text = body.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? body.toString('latin1') : body;
      const verdict = verifyCrl(text, anchors, 'fetched', now, url);
      if (!verdict.ok) throw new Error(`${verdict.error_code}: ${verdict.description}`);
      const next = nextFetchTime(now, verdict.value.parsed, intervalMs);
      this.due.set(url, next.getTime());
      const updated = withFetchedCrl(crls, verdict.value);
      const entry = { last_attempt: attempt, last_success: attempt, issuer: verdict.value.stored.issuer_subject, next_fetch: next.toISOString() };
      if (updated === undefined) return { entry };
      const parsed = verdict.value.parsed;
      return {
        entry,
        crls: updated,
        event: {
          time: attempt,
          type: 'crl_fetched',
          severity: 'INFO',
          url,
          issuer: verdict.value.stored.issuer_subject,
          description: `Fetched a new CRL of ${verdict.value.stored.issuer_subject} from ${url}: ${parsed.revokedSerials.length} revoked, this_update ${parsed.thisUpdate.toISOString()}, next_update ${parsed.nextUpdate?.toISOString() ?? 'none'}`,
        },
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const retry = new Date(now.getTime() + Math.min(intervalMs, 300_000));
      this.due.set(url, retry.getTime());
      return {
        entry: { last_attempt: attempt, error: reason, next_fetch: retry.toISOString() },
        event: { time: attempt, type: 'crl_fetch_failed', severity: 'WARNING', url, description: `Could not fetch the CRL from ${url}: ${reason}; the last good CRL stays in use` },
      };
    }
  }
}

/** The CDPs of every trust-anchor certificate, then the configured URLs; at most MAX_FETCH_URLS. */
function fetchUrls(pems: readonly string[], configured: readonly string[]): string[] {
  const urls = new Set<string>();
  for (const pem of pems) {
    const parsed = parseCertificateChain(pem);
    if (!parsed.ok) continue;
    for (const cert of parsed.value) for (const url of distributionPointsOf(cert)) urls.add(url);
  }
  for (const url of configured) urls.add(url);
  return [...urls].slice(0, MAX_FETCH_URLS);
}
