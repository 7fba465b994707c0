// OCSP series (README "Metrics"): whether OCSP is on, the cached status of the proxy certificate (one series
// per status, 1 for the current one), when a query last succeeded and last ran, whether queries fail now. Read
// from the node's in-memory copy of the cached status (the staple source), never from the store per scrape.
import type { OcspStatusRecord } from '../domain/ocsp-status.js';
import type { MetricFamily, Sample } from './prometheus-text.js';

export const OCSP_ENABLED = 'certplane_ocsp_enabled';
export const OCSP_STATUS = 'certplane_ocsp_certificate_status';
export const OCSP_LAST_SUCCESS = 'certplane_ocsp_last_success_timestamp_seconds';
export const OCSP_LAST_QUERY = 'certplane_ocsp_last_query_timestamp_seconds';
export const OCSP_QUERY_FAILING = 'certplane_ocsp_query_failing';
export const OCSP_CONSECUTIVE_FAILURES = 'certplane_ocsp_consecutive_query_failures';
export const OCSP_NEXT_UPDATE = 'certplane_ocsp_response_next_update_timestamp_seconds';

/** `none`: no verified response is cached for the current proxy certificate (never queried, or dropped). */
export const OCSP_STATUSES = ['good', 'revoked', 'unknown', 'none'] as const;

export interface OcspMetricsInput {
  enabled: boolean;
  record: OcspStatusRecord | undefined;
  /** The serial (normalized hex) of the proxy certificate this node serves; a record about another one is stale. */
  proxySerial: string | undefined;
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

export function ocspFamilies(input: OcspMetricsInput): MetricFamily[] {
  const status: Sample[] = [];
  const lastSuccess: Sample[] = [];
  const lastQuery: Sample[] = [];
  const failing: Sample[] = [];
  const failures: Sample[] = [];
  const nextUpdate: Sample[] = [];
  if (input.enabled && input.proxySerial !== undefined) {
    const labels = { name: 'proxy', serial: input.proxySerial };
    const record = input.record?.certificate_serial === input.proxySerial ? input.record : undefined;
    const current = record?.response?.cert_status.toLowerCase() ?? 'none';
    for (const value of OCSP_STATUSES) status.push({ labels: { ...labels, status: value }, value: value === current ? 1 : 0 });
    if (record !== undefined) {
      const success = record.last_success_time ?? (record.last_query_error === null ? record.last_query_time : null);
      if (success !== null) lastSuccess.push({ labels, value: seconds(success) });
      if (record.last_query_time !== null) lastQuery.push({ labels, value: seconds(record.last_query_time) });
      if (record.response?.next_update) nextUpdate.push({ labels, value: seconds(record.response.next_update) });
    }
    failing.push({ labels, value: record !== undefined && record.last_query_error !== null ? 1 : 0 });
    failures.push({ labels, value: record?.consecutive_failures ?? 0 });
  }
  return [
    { name: OCSP_ENABLED, type: 'gauge', help: 'OCSP checking of the proxy certificate is on (ocsp_functionality)', samples: [{ labels: {}, value: input.enabled ? 1 : 0 }] },
    { name: OCSP_STATUS, type: 'gauge', help: 'Cached OCSP status of the certificate: 1 for the current status (good, revoked, unknown; none = no verified response cached)', samples: status },
    { name: OCSP_LAST_SUCCESS, type: 'gauge', help: 'When an OCSP query last got a verified answer, seconds since the Unix epoch', samples: lastSuccess },
    { name: OCSP_LAST_QUERY, type: 'gauge', help: 'When the OCSP responder was last queried, seconds since the Unix epoch', samples: lastQuery },
    { name: OCSP_QUERY_FAILING, type: 'gauge', help: '1 when the last OCSP query failed (no answer, bad answer)', samples: failing },
    { name: OCSP_CONSECUTIVE_FAILURES, type: 'gauge', help: 'OCSP queries failed in a row since the last success', samples: failures },
    { name: OCSP_NEXT_UPDATE, type: 'gauge', help: 'nextUpdate of the cached OCSP response, seconds since the Unix epoch', samples: nextUpdate },
  ];
}
