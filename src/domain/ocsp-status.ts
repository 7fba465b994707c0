// The cached OCSP status of the proxy certificate (kept in the store, keys.ocspStatus), its API view (digest
// §3.3 ocsp_status, RFC 1123 dates), the polling schedule, when a cached response may be stapled, and the alert
// events of digest §3.4 / §5.4. Pure: the poller (src/ocsp) and the API both use these rules.
import type { OcspSettings } from './ocsp-settings.js';

export type OcspCertStatus = 'GOOD' | 'REVOKED' | 'UNKNOWN';

/** A verified responder answer for the proxy certificate (times ISO-8601). */
export interface OcspResponseRecord {
  cert_status: OcspCertStatus;
  produced_at: string;
  this_update: string;
  next_update: string | null;
  revocation_time: string | null;
  revocation_reason: string | null;
  /** The whole OCSPResponse, DER in base64: what is stapled. */
  der: string;
}

export interface OcspStatusRecord {
  /** SHA-256 of the proxy leaf certificate this record is about; a record for another certificate is void. */
  certificate_fingerprint: string;
  /** Its serial number, lowercase hex without leading zeros (normalizeSerial). */
  certificate_serial: string;
  responder_url: string;
  /** The last verified response: shown by GET /v1/ocsp/status and stapled while valid. Null when dropped. */
  response: OcspResponseRecord | null;
  last_query_time: string | null;
  /** Why the last query failed; null after a success. */
  last_query_error: string | null;
  consecutive_failures: number;
  /** Set when recovery_max_tries recovery queries failed: the response was dropped, polling is back to query_frequency. */
  recovery_exhausted: boolean;
  /** Alerts currently raised (so each is raised once and cleared once). */
  alerts: { ocsp_query_failed: boolean; ocsp_status_revoked: boolean };
  /** When a query last got a verified answer (metrics); absent in records written before it existed. */
  last_success_time?: string | null;
}

/** GET /v1/ocsp/status and POST /v1/ocsp/test: digest §3.3 fields, then certplane's query diagnostics. */
export interface OcspStatusView {
  cert_status: OcspCertStatus;
  responder_url: string;
  produced_at?: string;
  this_update?: string;
  next_update?: string;
  revocation_time?: string;
  last_query_time?: string;
  last_query_error?: string;
  consecutive_failures?: number;
}

export type OcspAlertName = 'ocsp_query_failed' | 'ocsp_status_revoked';

/** An alert event in the cluster event log (GET /v1/logs), RS style: `state` true when raised, false when cleared. */
export interface OcspAlertEvent {
  time: string;
  type: OcspAlertName;
  severity: 'ERROR' | 'INFO';
  state: boolean;
  responder_url: string;
  certificate_serial: string;
  description: string;
}

/** What the API's POST /v1/ocsp/test gets from the OCSP part (wired by the composition root). */
export type OcspTestOutcome =
  | { ok: true; status: OcspStatusView }
  | { ok: false; error_code: 'no_responder_url' | 'invalid_ocsp_response'; description: string };

export interface OcspOperations {
  /** Queries the responder now; the result is cached (and counts for the poller) only while OCSP is enabled. */
  testNow(): Promise<OcspTestOutcome>;
}

export function emptyStatusRecord(target: { fingerprint: string; serial: string; responderUrl: string }): OcspStatusRecord {
  return {
    certificate_fingerprint: target.fingerprint,
    certificate_serial: target.serial,
    responder_url: target.responderUrl,
    response: null,
    last_query_time: null,
    last_query_error: null,
    consecutive_failures: 0,
    recovery_exhausted: false,
    alerts: { ocsp_query_failed: false, ocsp_status_revoked: false },
  };
}

/** Serial numbers compared as lowercase hex without leading zeros (`0ABC` and `abc` are the same serial). */
export function normalizeSerial(hex: string): string {
  const clean = hex.replace(/[^0-9a-f]/gi, '').toLowerCase().replace(/^0+/, '');
  return clean === '' ? '0' : clean;
}

/** RFC 1123, as RS shows OCSP dates: `Wed, 22 Dec 2021 12:50:11 GMT`. */
export function rfc1123(iso: string): string {
  return new Date(iso).toUTCString();
}

export function responseView(response: OcspResponseRecord | null, responderUrl: string): OcspStatusView {
  if (response === null) return { cert_status: 'UNKNOWN', responder_url: responderUrl };
  return {
    cert_status: response.cert_status,
    responder_url: responderUrl,
    produced_at: rfc1123(response.produced_at),
    this_update: rfc1123(response.this_update),
    ...(response.next_update === null ? {} : { next_update: rfc1123(response.next_update) }),
    ...(response.revocation_time === null ? {} : { revocation_time: rfc1123(response.revocation_time) }),
  };
}

/**
 * The view of the cached status for the current proxy certificate. A record about another certificate (the
 * proxy certificate was replaced and not queried yet) shows UNKNOWN.
 */
export function ocspStatusView(record: OcspStatusRecord | undefined, current: { fingerprint: string; responderUrl: string }): OcspStatusView {
  if (record === undefined || record.certificate_fingerprint !== current.fingerprint) {
    return { cert_status: 'UNKNOWN', responder_url: current.responderUrl, consecutive_failures: 0 };
  }
  return {
    ...responseView(record.response, current.responderUrl),
    ...(record.last_query_time === null ? {} : { last_query_time: rfc1123(record.last_query_time) }),
    ...(record.last_query_error === null ? {} : { last_query_error: record.last_query_error }),
    consecutive_failures: record.consecutive_failures,
  };
}

/** A cached response may be stapled for this certificate serial at `now`: verified, same certificate, not expired. */
export function isStapleUsable(record: OcspStatusRecord | undefined, serial: string, now: Date): boolean {
  const response = record?.response;
  if (record === undefined || response === null || response === undefined || response.der === '') return false;
  if (record.certificate_serial !== normalizeSerial(serial)) return false;
  if (response.next_update !== null && Date.parse(response.next_update) <= now.getTime()) return false;
  return true;
}

/**
 * When the next query is due (digest §3.2 + DESIGN.md):
 * - never queried → now;
 * - failing and recovery not exhausted → last query + recovery_frequency;
 * - otherwise → last query + query_frequency, but early enough to refresh a response before its nextUpdate
 *   (10% of its validity window ahead), never sooner than min(query_frequency, recovery_frequency) after the
 *   last query, so a responder issuing very short-lived responses is not hammered. RS documents no rule for
 *   nextUpdate shorter than query_frequency; stapling an expired response would be worse than an extra query.
 */
export function nextQueryDueAt(record: OcspStatusRecord | undefined, settings: OcspSettings): Date | 'now' {
  if (record === undefined || record.last_query_time === null) return 'now';
  const last = Date.parse(record.last_query_time);
  if (record.consecutive_failures > 0 && !record.recovery_exhausted) return new Date(last + settings.recovery_frequency * 1000);
  let due = last + settings.query_frequency * 1000;
  const response = record.response;
  if (response !== null && response.next_update !== null) {
    const nextUpdate = Date.parse(response.next_update);
    const window = Math.max(0, nextUpdate - Date.parse(response.this_update));
    const refresh = nextUpdate - Math.max(1000, Math.floor(window / 10));
    const floor = last + Math.min(settings.query_frequency, settings.recovery_frequency) * 1000;
    due = Math.min(due, Math.max(refresh, floor));
  }
  return new Date(due);
}

export interface OcspOutcomeInput {
  now: Date;
  settings: OcspSettings;
  alertSettings: { cluster_ocsp_query_failed: boolean; cluster_ocsp_status_revoked: boolean };
  outcome: { ok: true; response: OcspResponseRecord } | { ok: false; error: string };
}

/**
 * The next record after one query, and the alert events it raises or clears. Failures keep the cached response
 * (it stays stapled while valid) until recovery_max_tries recovery queries after the first failure have failed
 * too; then it is dropped (UNKNOWN, no staple), ocsp_query_failed is raised and polling returns to
 * query_frequency (DESIGN.md).
 */
export function applyQueryOutcome(previous: OcspStatusRecord, input: OcspOutcomeInput): { record: OcspStatusRecord; events: OcspAlertEvent[] } {
  const time = input.now.toISOString();
  const events: OcspAlertEvent[] = [];
  const alerts = { ...previous.alerts };
  const event = (type: OcspAlertName, state: boolean, description: string): OcspAlertEvent => ({
    time,
    type,
    severity: state ? 'ERROR' : 'INFO',
    state,
    responder_url: previous.responder_url,
    certificate_serial: previous.certificate_serial,
    description,
  });
  if (input.outcome.ok) {
    const response = input.outcome.response;
    if (alerts.ocsp_query_failed) {
      alerts.ocsp_query_failed = false;
      if (input.alertSettings.cluster_ocsp_query_failed) events.push(event('ocsp_query_failed', false, 'OCSP queries succeed again'));
    }
    if (response.cert_status === 'REVOKED' && !alerts.ocsp_status_revoked && input.alertSettings.cluster_ocsp_status_revoked) {
      alerts.ocsp_status_revoked = true;
      const when = response.revocation_time === null ? '' : ` on ${rfc1123(response.revocation_time)}`;
      events.push(event('ocsp_status_revoked', true, `The OCSP responder reports the proxy certificate as revoked${when}`));
    } else if (response.cert_status !== 'REVOKED' && alerts.ocsp_status_revoked) {
      alerts.ocsp_status_revoked = false;
      if (input.alertSettings.cluster_ocsp_status_revoked) events.push(event('ocsp_status_revoked', false, `The OCSP status of the proxy certificate is ${response.cert_status}`));
    }
    return {
      record: { ...previous, response, last_query_time: time, last_query_error: null, consecutive_failures: 0, recovery_exhausted: false, alerts, last_success_time: time },
      events,
    };
  }
  const failures = previous.consecutive_failures + 1;
  let { response, recovery_exhausted } = previous;
  if (!recovery_exhausted && failures >= 1 + input.settings.recovery_max_tries) {
    recovery_exhausted = true;
    response = null;
    if (!alerts.ocsp_query_failed && input.alertSettings.cluster_ocsp_query_failed) {
      alerts.ocsp_query_failed = true;
      events.push(
        event(
          'ocsp_query_failed',
          true,
          `OCSP query failed ${failures} times in a row (last: ${input.outcome.error}); the cached status was dropped and is no longer stapled`,
        ),
      );
    }
  }
  return {
    record: { ...previous, response, recovery_exhausted, last_query_time: time, last_query_error: input.outcome.error, consecutive_failures: failures, alerts },
    events,
  };
}
