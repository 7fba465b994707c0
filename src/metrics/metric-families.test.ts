import { describe, expect, it } from 'vitest';
import { renderFamilies, formatLabels } from './prometheus-text.js';
import { accessFamilies, CertificateLoginCounters } from './access-metrics.js';
import { ocspFamilies } from './ocsp-metrics.js';
import { renderSources } from './metrics-exporter.js';
import type { OcspStatusRecord } from '../domain/ocsp-status.js';

describe('Prometheus text', () => {
  it('escapes label values and spells out special numbers', () => {
    expect(formatLabels({ a: 'x"y\\z\nw' })).toBe('{a="x\\"y\\\\z\\nw"}');
    const text = renderFamilies([{ name: 'm', type: 'gauge', help: 'h', samples: [{ labels: {}, value: NaN }, { labels: { k: 'v' }, value: -Infinity }] }]);
    expect(text).toBe('# HELP m h\n# TYPE m gauge\nm NaN\nm{k="v"} -Inf\n');
  });

  it('prefixes every sample with the node labels and leaves out a failing source', async () => {
    const warned: unknown[] = [];
    const text = await renderSources(
      [
        () => [{ name: 'a', type: 'counter', help: 'h', samples: [{ labels: { x: '1' }, value: 2 }] }],
        () => {
          throw new Error('boom');
        },
        async () => [{ name: 'b', type: 'gauge', help: 'h', samples: [{ labels: {}, value: 1 }] }],
      ],
      { cluster: 'c', node: '1' },
      { warn: (...args: unknown[]) => warned.push(args) } as never,
    );
    expect(text).toBe('# HELP a h\n# TYPE a counter\na{cluster="c",node="1",x="1"} 2\n# HELP b h\n# TYPE b gauge\nb{cluster="c",node="1"} 1\n');
    expect(warned).toHaveLength(1);
  });
});

describe('client-certificate login and proxy series', () => {
  it('folds unknown reasons into other and declares the known ones at zero', () => {
    const api = new CertificateLoginCounters();
    api.succeeded();
    api.failed('certificate_not_trusted');
    api.failed('store_unavailable');
    api.failed('<script>');
    const families = accessFamilies(api.counts(), {
      endpoints: {
        '2': { connectionsOpen: 1, connectionsTotal: 5, handshakes: 4, handshakeFailures: { timeout: 1, weird: 2 }, certificateLogins: 3, certificateLoginFailures: { certificate_not_authorized: 1, bogus: 1 } },
      },
    });
    const text = renderFamilies(families);
    expect(text).toContain('certplane_client_certificate_logins_total{interface="api"} 1\n');
    expect(text).toContain('certplane_client_certificate_logins_total{interface="database"} 3\n');
    expect(text).toContain('certplane_client_certificate_login_failures_total{interface="api",reason="certificate_not_trusted"} 1\n');
    expect(text).toContain('certplane_client_certificate_login_failures_total{interface="api",reason="other"} 2\n');
    expect(text).toContain('certplane_client_certificate_login_failures_total{interface="api",reason="unknown_certificate_user"} 0\n');
    expect(text).toContain('certplane_client_certificate_login_failures_total{interface="database",reason="certificate_not_authorized"} 1\n');
    expect(text).toContain('certplane_client_certificate_login_failures_total{interface="database",reason="other"} 1\n');
    expect(text).toContain('certplane_proxy_connections_open{bdb="2"} 1\n');
    expect(text).toContain('certplane_proxy_connections_total{bdb="2"} 5\n');
    expect(text).toContain('certplane_proxy_tls_handshakes_total{bdb="2"} 4\n');
    expect(text).toContain('certplane_proxy_tls_handshake_failures_total{bdb="2",reason="timeout"} 1\n');
    expect(text).toContain('certplane_proxy_tls_handshake_failures_total{bdb="2",reason="other"} 2\n');
    expect(text).not.toContain('weird');
    expect(text).not.toContain('script');
  });
});

describe('OCSP series', () => {
  const record = (over: Partial<OcspStatusRecord>): OcspStatusRecord => ({
    certificate_fingerprint: 'f',
    certificate_serial: 'abc',
    responder_url: 'http://r',
    response: { cert_status: 'GOOD', produced_at: '2026-01-01T00:00:00.000Z', this_update: '2026-01-01T00:00:00.000Z', next_update: '2026-01-02T00:00:00.000Z', revocation_time: null, revocation_reason: null, der: '' },
    last_query_time: '2026-01-01T00:00:10.000Z',
    last_query_error: null,
    consecutive_failures: 0,
    recovery_exhausted: false,
    alerts: { ocsp_query_failed: false, ocsp_status_revoked: false },
    ...over,
  });

  it('reports the current status as 1 and the others as 0, with last success and next update', () => {
    const text = renderFamilies(ocspFamilies({ enabled: true, record: record({}), proxySerial: 'abc' }));
    expect(text).toContain('certplane_ocsp_enabled 1\n');
    expect(text).toContain('certplane_ocsp_certificate_status{name="proxy",serial="abc",status="good"} 1\n');
    expect(text).toContain('certplane_ocsp_certificate_status{name="proxy",serial="abc",status="revoked"} 0\n');
    expect(text).toContain(`certplane_ocsp_last_success_timestamp_seconds{name="proxy",serial="abc"} ${Date.parse('2026-01-01T00:00:10Z') / 1000}\n`);
    expect(text).toContain(`certplane_ocsp_response_next_update_timestamp_seconds{name="proxy",serial="abc"} ${Date.parse('2026-01-02T00:00:00Z') / 1000}\n`);
    expect(text).toContain('certplane_ocsp_query_failing{name="proxy",serial="abc"} 0\n');
  });

  it('keeps the last success time while queries fail, and marks them failing', () => {
    const failing = record({ last_query_time: '2026-01-01T01:00:00.000Z', last_query_error: 'timeout', consecutive_failures: 3, last_success_time: '2026-01-01T00:00:10.000Z' });
    const text = renderFamilies(ocspFamilies({ enabled: true, record: failing, proxySerial: 'abc' }));
    expect(text).toContain(`certplane_ocsp_last_success_timestamp_seconds{name="proxy",serial="abc"} ${Date.parse('2026-01-01T00:00:10Z') / 1000}\n`);
    expect(text).toContain('certplane_ocsp_query_failing{name="proxy",serial="abc"} 1\n');
    expect(text).toContain('certplane_ocsp_consecutive_query_failures{name="proxy",serial="abc"} 3\n');
  });

  it('a record about a replaced proxy certificate counts as none; disabled OCSP has no status series', () => {
    const stale = renderFamilies(ocspFamilies({ enabled: true, record: record({ certificate_serial: 'old' }), proxySerial: 'abc' }));
    expect(stale).toContain('certplane_ocsp_certificate_status{name="proxy",serial="abc",status="none"} 1\n');
    expect(stale).not.toContain('certplane_ocsp_last_success_timestamp_seconds{');
    const off = renderFamilies(ocspFamilies({ enabled: false, record: record({}), proxySerial: 'abc' }));
    expect(off).toContain('certplane_ocsp_enabled 0\n');
    expect(off).not.toContain('certplane_ocsp_certificate_status{');
  });
});
