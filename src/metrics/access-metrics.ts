// Client-certificate logins (REST API and databases) and database proxy traffic (README "Metrics"). The API
// counts its logins here (CertificateLoginCounters, told by src/api/auth); the databases' counts come from
// the data-plane processes (src/proxy/proxy-stats.ts, over the control socket) as a snapshot per scrape.
// Reasons are closed sets: anything else is `other`, so a client cannot create series.
import type { MetricFamily, Sample } from './prometheus-text.js';
import { DATABASE_LOGIN_FAILURE_REASONS, HANDSHAKE_FAILURE_REASONS, type ProxyStatsSnapshot } from '../domain/proxy-stats.js';

export const CERTIFICATE_LOGINS = 'certplane_client_certificate_logins_total';
export const CERTIFICATE_LOGIN_FAILURES = 'certplane_client_certificate_login_failures_total';
export const PROXY_CONNECTIONS_OPEN = 'certplane_proxy_connections_open';
export const PROXY_CONNECTIONS = 'certplane_proxy_connections_total';
export const PROXY_HANDSHAKES = 'certplane_proxy_tls_handshakes_total';
export const PROXY_HANDSHAKE_FAILURES = 'certplane_proxy_tls_handshake_failures_total';

/** The REST API's certificate-login error codes (README "Client certificate login"). */
export const API_LOGIN_FAILURE_REASONS = [
  'certificate_not_trusted',
  'client_certificate_expired',
  'client_certificate_not_yet_valid',
  'certificate_not_authorized',
  'unknown_certificate_user',
  'ambiguous_credentials',
  'other',
] as const;

/** What the data plane reports per database. */
export type ProxyMetricsSnapshot = ProxyStatsSnapshot;

/** The REST API's client-certificate logins on this node (the API's CertificateLoginObserver). */
export class CertificateLoginCounters {
  private successes = 0;
  private readonly failures = new Map<string, number>();

  succeeded(): void {
    this.successes += 1;
  }

  failed(reason: string): void {
    const key = (API_LOGIN_FAILURE_REASONS as readonly string[]).includes(reason) ? reason : 'other';
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  counts(): { successes: number; failures: Record<string, number> } {
    return { successes: this.successes, failures: Object.fromEntries(this.failures) };
  }
}

/** Known reasons at their count (0 when none yet, so rate() sees the first one); unknown ones folded into `other`. */
function byReason(known: readonly string[], counts: Record<string, number>): Array<[string, number]> {
  const out = new Map<string, number>(known.map((reason) => [reason, 0]));
  for (const [reason, value] of Object.entries(counts)) {
    const key = out.has(reason) ? reason : 'other';
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return [...out.entries()];
}

export function accessFamilies(api: { successes: number; failures: Record<string, number> }, proxy: ProxyMetricsSnapshot | undefined): MetricFamily[] {
  const databaseFailures: Record<string, number> = {};
  let databaseSuccesses = 0;
  const open: Sample[] = [];
  const total: Sample[] = [];
  const handshakes: Sample[] = [];
  const handshakeFailures: Sample[] = [];
  const endpoints = Object.entries(proxy?.endpoints ?? {}).sort(([a], [b]) => Number(a) - Number(b));
  for (const [bdb, entry] of endpoints) {
    databaseSuccesses += entry.certificateLogins;
    for (const [reason, value] of Object.entries(entry.certificateLoginFailures)) databaseFailures[reason] = (databaseFailures[reason] ?? 0) + value;
    open.push({ labels: { bdb }, value: entry.connectionsOpen });
    total.push({ labels: { bdb }, value: entry.connectionsTotal });
    handshakes.push({ labels: { bdb }, value: entry.handshakes });
    for (const [reason, value] of byReason(HANDSHAKE_FAILURE_REASONS, entry.handshakeFailures)) handshakeFailures.push({ labels: { bdb, reason }, value });
  }
  const loginFailures: Sample[] = [
    ...byReason(API_LOGIN_FAILURE_REASONS, api.failures).map(([reason, value]) => ({ labels: { interface: 'api', reason }, value })),
    ...byReason([...DATABASE_LOGIN_FAILURE_REASONS, 'other'], databaseFailures).map(([reason, value]) => ({ labels: { interface: 'database', reason }, value })),
  ];
  return [
    {
      name: CERTIFICATE_LOGINS,
      type: 'counter',
      help: 'Client-certificate logins accepted (interface: api = REST API requests, database = database connections)',
      samples: [
        { labels: { interface: 'api' }, value: api.successes },
        { labels: { interface: 'database' }, value: databaseSuccesses },
      ],
    },
    { name: CERTIFICATE_LOGIN_FAILURES, type: 'counter', help: 'Client-certificate logins refused, by interface and reason', samples: loginFailures },
    { name: PROXY_CONNECTIONS_OPEN, type: 'gauge', help: 'Client connections open on the database endpoint', samples: open },
    { name: PROXY_CONNECTIONS, type: 'counter', help: 'Client connections accepted on the database endpoint', samples: total },
    { name: PROXY_HANDSHAKES, type: 'counter', help: 'TLS handshakes completed on the database endpoint', samples: handshakes },
    { name: PROXY_HANDSHAKE_FAILURES, type: 'counter', help: 'TLS handshakes failed on the database endpoint, by reason', samples: handshakeFailures },
  ];
}
