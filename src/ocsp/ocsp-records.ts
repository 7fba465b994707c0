// Reading what OCSP needs from the store (settings, the proxy certificate and its issuer, the cached status) and
// writing the outcome of a query back: compare-and-swap on the status key, guarded by the proxy certificate's
// revision (a result for a replaced certificate is discarded) and, on the poller, by the leader fence. Alert
// events go into the cluster event log in the same transaction.
import { X509Certificate } from 'node:crypto';
import type { ClusterStore, Compare, TxnOp } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { eventPutOp } from '../store/event-log.js';
import { alertChangeOps, type AlertChangeRequest } from '../alerts/alert-records.js';
import { certificateRecordKey, parseCertificateRecord } from '../store/certificate-records.js';
import type { Clock } from '../lib/clock.js';
import { certificateFingerprint, parseCertificateChain } from '../domain/pem.js';
import { ocspResponderUrlOfCertificate, ocspSettingsOrDefaults, type OcspSettings } from '../domain/ocsp-settings.js';
import {
  applyQueryOutcome,
  emptyStatusRecord,
  normalizeSerial,
  type OcspAlertEvent,
  type OcspOutcomeInput,
  type OcspResponseRecord,
  type OcspStatusRecord,
} from '../domain/ocsp-status.js';
import type { ClusterDocument } from '../domain/cluster-settings.js';
import { OcspQueryError, queryOcsp } from './ocsp-client.js';

/** The proxy certificate as OCSP sees it. */
export interface OcspTarget {
  fingerprint: string;
  serial: string;
  responderUrl: string;
  certificate: X509Certificate;
  /** The next certificate of the uploaded chain when it issued the leaf. */
  issuer: X509Certificate | undefined;
  /** modRevision of the proxy certificate key: outcomes are recorded only while it is unchanged. */
  certificateRevision: number;
}

export interface OcspContext {
  settings: OcspSettings;
  /** modRevision of the settings key (0 when never written). */
  settingsRevision: number;
  target: OcspTarget | undefined;
  record: OcspStatusRecord | undefined;
  /** modRevision of the status key (0 when never written). */
  recordRevision: number;
}

export async function readOcspContext(store: ClusterStore): Promise<OcspContext> {
  const [settingsKv, certificateKv, recordKv] = await Promise.all([
    store.get(keys.ocspSettings),
    store.get(certificateRecordKey('proxy')),
    store.get(keys.ocspStatus),
  ]);
  return {
    settings: ocspSettingsOrDefaults(settingsKv === undefined ? undefined : (JSON.parse(settingsKv.value) as Partial<OcspSettings>)),
    settingsRevision: settingsKv?.modRevision ?? 0,
    target: certificateKv === undefined ? undefined : targetOf(parseCertificateRecord(certificateKv.value).certificate, certificateKv.modRevision),
    record: recordKv === undefined ? undefined : (JSON.parse(recordKv.value) as OcspStatusRecord),
    recordRevision: recordKv?.modRevision ?? 0,
  };
}

export function targetOf(chainPem: string, certificateRevision: number): OcspTarget | undefined {
  const chain = parseCertificateChain(chainPem);
  if (!chain.ok) return undefined;
  const [certificate, next] = chain.value;
  if (certificate === undefined) return undefined;
  const issuer = next !== undefined && certificate.checkIssued(next) ? next : undefined;
  return {
    fingerprint: certificateFingerprint(certificate),
    serial: normalizeSerial(certificate.serialNumber),
    responderUrl: ocspResponderUrlOfCertificate(certificate),
    certificate,
    issuer,
    certificateRevision,
  };
}

export type QueryOutcome = { ok: true; response: OcspResponseRecord } | { ok: false; error: OcspQueryError };

/** One query for the target with the configured timeout; never throws. */
export async function queryTarget(target: OcspTarget, settings: OcspSettings, clock: Clock, signal?: AbortSignal): Promise<QueryOutcome> {
  try {
    const response = await queryOcsp({
      certificate: target.certificate,
      issuer: target.issuer,
      responderUrl: target.responderUrl,
      timeoutMs: settings.response_timeout * 1000,
      now: () => clock.now(),
      ...(signal === undefined ? {} : { signal }),
    });
    return { ok: true, response };
  } catch (error) {
    if (error instanceof OcspQueryError) return { ok: false, error };
    return { ok: false, error: new OcspQueryError('malformed', `The OCSP response could not be processed: ${(error as Error).message}`, { cause: error }) };
  }
}

export interface RecordOptions {
  store: ClusterStore;
  clock: Clock;
  target: OcspTarget;
  outcome: QueryOutcome;
  /** Extra compares (the poller's leader fence). */
  fence?: () => Compare | undefined;
}

/**
 * Applies one query outcome to the cached status (reading the current settings and alert settings) and writes it
 * with the alert events. Returns undefined when the proxy certificate changed meanwhile or the fence failed.
 */
export async function recordQueryOutcome(options: RecordOptions): Promise<{ record: OcspStatusRecord; events: OcspAlertEvent[] } | undefined> {
  const { store, target } = options;
  for (let attempt = 0; attempt < 8; attempt++) {
    const [context, clusterKv] = await Promise.all([readOcspContext(store), store.get(keys.cluster)]);
    const cluster = clusterKv === undefined ? undefined : (JSON.parse(clusterKv.value) as Partial<ClusterDocument>);
    const previous =
      context.record !== undefined && context.record.certificate_fingerprint === target.fingerprint
        ? { ...context.record, responder_url: target.responderUrl }
        : emptyStatusRecord(target);
    const input: OcspOutcomeInput = {
      now: options.clock.now(),
      settings: context.settings,
      alertSettings: {
        cluster_ocsp_query_failed: cluster?.alert_settings?.cluster_ocsp_query_failed === true,
        cluster_ocsp_status_revoked: cluster?.alert_settings?.cluster_ocsp_status_revoked === true,
      },
      outcome: options.outcome.ok ? { ok: true, response: options.outcome.response } : { ok: false, error: options.outcome.error.message },
    };
    const next = applyQueryOutcome(previous, input);
    const compare: Compare[] = [
      { key: certificateRecordKey('proxy'), target: 'mod', op: '==', value: target.certificateRevision },
      { key: keys.ocspStatus, target: 'mod', op: '==', value: context.recordRevision },
    ];
    // The alert records move with the cached status; the events are logged and queued for delivery by the alert
    // store (src/alerts/alert-records.ts).
    const alerts = await alertChangeOps(store, ocspAlertChanges(next.record, next.events, input.alertSettings, input.now.toISOString()), input.now.toISOString());
    compare.push(...alerts.compare);
    const fence = options.fence?.();
    if (fence !== undefined) compare.push(fence);
    const success: TxnOp[] = [{ type: 'put', key: keys.ocspStatus, value: JSON.stringify(next.record) }, ...alerts.ops];
    const result = await store.txn({ compare, success });
    if (result.succeeded) return next;
    const [certificateKv, statusKv] = await Promise.all([store.get(certificateRecordKey('proxy')), store.get(keys.ocspStatus)]);
    if ((certificateKv?.modRevision ?? 0) !== target.certificateRevision) return undefined;
    // Only the status key moved (another writer): retry on the fresh record. Otherwise the fence failed.
    if ((statusKv?.modRevision ?? 0) === context.recordRevision) return undefined;
  }
  return undefined;
}

/** Into the cluster event log like every event (src/store/event-log.ts), so GET /v1/logs lists it. */
export function alertEventOp(event: OcspAlertEvent): TxnOp {
  return eventPutOp(event);
}

/** The alert of each OCSP event name (digest §3.4: events `ocsp_*`, settings and alerts `cluster_ocsp_*`). */
const OCSP_ALERT = { ocsp_query_failed: 'cluster_ocsp_query_failed', ocsp_status_revoked: 'cluster_ocsp_status_revoked' } as const;

/**
 * The alert-store changes after one query, level-triggered on the record's flags: an event raises or clears its
 * alert (and is what is logged and delivered); a flag that no event explains (the proxy certificate was replaced,
 * so its status starts afresh) clears the alert with an event of its own, quietly when the alert is switched off.
 */
export function ocspAlertChanges(
  record: OcspStatusRecord,
  events: readonly OcspAlertEvent[],
  settings: { cluster_ocsp_query_failed: boolean; cluster_ocsp_status_revoked: boolean },
  time: string,
): AlertChangeRequest[] {
  return (Object.keys(OCSP_ALERT) as Array<keyof typeof OCSP_ALERT>).map((type): AlertChangeRequest => {
    const name = OCSP_ALERT[type];
    const event = events.find((e) => e.type === type);
    const value = { responder_url: record.responder_url, certificate_serial: record.certificate_serial, consecutive_failures: record.consecutive_failures };
    if (event !== undefined) {
      return { change: { name, subject: '', raised: event.state, severity: 'ERROR', value, description: event.description }, event: { ...event } };
    }
    const raised = record.alerts[type];
    const description = raised ? `${type} holds` : `${type} no longer holds: the proxy certificate was replaced (serial ${record.certificate_serial} now)`;
    const own: OcspAlertEvent = { time, type, severity: raised ? 'ERROR' : 'INFO', state: raised, responder_url: record.responder_url, certificate_serial: record.certificate_serial, description };
    return { change: { name, subject: '', raised, severity: 'ERROR', value, description }, event: { ...own }, quiet: !settings[name] };
  });
}
