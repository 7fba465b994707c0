import { describe, expect, it } from 'vitest';
import { OCSP_DEFAULTS, type OcspSettings } from './ocsp-settings.js';
import {
  applyQueryOutcome,
  emptyStatusRecord,
  isStapleUsable,
  nextQueryDueAt,
  normalizeSerial,
  ocspStatusView,
  type OcspResponseRecord,
  type OcspStatusRecord,
} from './ocsp-status.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const settings: OcspSettings = { ...OCSP_DEFAULTS, ocsp_functionality: true, recovery_max_tries: 2 };
const alertsOn = { cluster_ocsp_query_failed: true, cluster_ocsp_status_revoked: true };
const target = { fingerprint: 'f1', serial: 'abc', responderUrl: 'http://ocsp.example/' };

function response(status: OcspResponseRecord['cert_status'] = 'GOOD', hours = 24): OcspResponseRecord {
  return {
    cert_status: status,
    produced_at: T0.toISOString(),
    this_update: T0.toISOString(),
    next_update: new Date(T0.getTime() + hours * 3_600_000).toISOString(),
    revocation_time: status === 'REVOKED' ? '2026-02-01T00:00:00.000Z' : null,
    revocation_reason: status === 'REVOKED' ? 'keyCompromise' : null,
    der: 'MAo=',
  };
}

function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

describe('ocsp status rules', () => {
  it('normalizes serials', () => {
    expect(normalizeSerial('0ABCDEF012')).toBe('abcdef012');
    expect(normalizeSerial('00:0a')).toBe('a');
    expect(normalizeSerial('00')).toBe('0');
  });

  it('shows RFC 1123 dates, UNKNOWN without a response, and UNKNOWN for a record about another certificate', () => {
    const record = { ...emptyStatusRecord(target), response: response('REVOKED'), last_query_time: T0.toISOString() };
    expect(ocspStatusView(record, { fingerprint: 'f1', responderUrl: target.responderUrl })).toEqual({
      cert_status: 'REVOKED',
      responder_url: 'http://ocsp.example/',
      produced_at: 'Sun, 01 Mar 2026 10:00:00 GMT',
      this_update: 'Sun, 01 Mar 2026 10:00:00 GMT',
      next_update: 'Mon, 02 Mar 2026 10:00:00 GMT',
      revocation_time: 'Sun, 01 Feb 2026 00:00:00 GMT',
      last_query_time: 'Sun, 01 Mar 2026 10:00:00 GMT',
      consecutive_failures: 0,
    });
    expect(ocspStatusView(record, { fingerprint: 'other', responderUrl: 'x' }).cert_status).toBe('UNKNOWN');
    expect(ocspStatusView(undefined, { fingerprint: 'f1', responderUrl: 'x' })).toEqual({ cert_status: 'UNKNOWN', responder_url: 'x', consecutive_failures: 0 });
  });

  it('staples only a response about this serial that has not passed nextUpdate', () => {
    const record = { ...emptyStatusRecord(target), response: response('GOOD', 1) };
    expect(isStapleUsable(record, '0ABC', at(60))).toBe(true);
    expect(isStapleUsable(record, 'abd', at(60))).toBe(false);
    expect(isStapleUsable(record, 'abc', at(3600))).toBe(false);
    expect(isStapleUsable({ ...record, response: null }, 'abc', at(60))).toBe(false);
    expect(isStapleUsable(undefined, 'abc', at(60))).toBe(false);
  });

  it('schedules: now when never queried, query_frequency after success, recovery_frequency after failure', () => {
    expect(nextQueryDueAt(undefined, settings)).toBe('now');
    let { record } = applyQueryOutcome(emptyStatusRecord(target), { now: T0, settings, alertSettings: alertsOn, outcome: { ok: true, response: response() } });
    expect(nextQueryDueAt(record, settings)).toEqual(at(3600));
    ({ record } = applyQueryOutcome(record, { now: at(3600), settings, alertSettings: alertsOn, outcome: { ok: false, error: 'down' } }));
    expect(nextQueryDueAt(record, settings)).toEqual(at(3660));
  });

  it('refreshes before nextUpdate when it comes sooner than query_frequency, but not faster than the floor', () => {
    const { record } = applyQueryOutcome(emptyStatusRecord(target), {
      now: T0, settings, alertSettings: alertsOn,
      outcome: { ok: true, response: { ...response(), next_update: at(600).toISOString() } },
    });
    // 10% of the 600 s window before nextUpdate.
    expect(nextQueryDueAt(record, settings)).toEqual(at(540));
    const short = { ...record, response: { ...record.response!, next_update: at(5).toISOString() } };
    expect(nextQueryDueAt(short, settings)).toEqual(at(60));
  });

  it('keeps the cached response through recovery_max_tries failed recovery queries, then drops it, raises the alert once and returns to query_frequency', () => {
    let { record } = applyQueryOutcome(emptyStatusRecord(target), { now: T0, settings, alertSettings: alertsOn, outcome: { ok: true, response: response() } });
    const fail = (r: OcspStatusRecord, seconds: number) => applyQueryOutcome(r, { now: at(seconds), settings, alertSettings: alertsOn, outcome: { ok: false, error: 'HTTP 500' } });
    let step = fail(record, 3600); // first failure
    expect(step.record.response).not.toBeNull();
    expect(step.events).toEqual([]);
    step = fail(step.record, 3660); // recovery try 1
    expect(step.record.response).not.toBeNull();
    step = fail(step.record, 3720); // recovery try 2 = recovery_max_tries
    expect(step.record.response).toBeNull();
    expect(step.record.recovery_exhausted).toBe(true);
    expect(step.events).toMatchObject([{ type: 'ocsp_query_failed', state: true, severity: 'ERROR' }]);
    expect(nextQueryDueAt(step.record, settings)).toEqual(at(3720 + 3600));
    step = fail(step.record, 7320);
    expect(step.events).toEqual([]);
    record = step.record;
    const recovered = applyQueryOutcome(record, { now: at(10_920), settings, alertSettings: alertsOn, outcome: { ok: true, response: response() } });
    expect(recovered.record).toMatchObject({ consecutive_failures: 0, recovery_exhausted: false, last_query_error: null });
    expect(recovered.events).toMatchObject([{ type: 'ocsp_query_failed', state: false }]);
  });

  it('raises ocsp_status_revoked once when enabled, and nothing when the alerts are off', () => {
    const first = applyQueryOutcome(emptyStatusRecord(target), { now: T0, settings, alertSettings: alertsOn, outcome: { ok: true, response: response('REVOKED') } });
    expect(first.events).toMatchObject([{ type: 'ocsp_status_revoked', state: true }]);
    const again = applyQueryOutcome(first.record, { now: at(60), settings, alertSettings: alertsOn, outcome: { ok: true, response: response('REVOKED') } });
    expect(again.events).toEqual([]);
    const off = { cluster_ocsp_query_failed: false, cluster_ocsp_status_revoked: false };
    expect(applyQueryOutcome(emptyStatusRecord(target), { now: T0, settings, alertSettings: off, outcome: { ok: true, response: response('REVOKED') } }).events).toEqual([]);
  });
});
