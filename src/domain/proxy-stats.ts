// What a data-plane process counts per database and reports to the node (the `stats` message of
// src/data-plane/protocol.ts): the shapes and the closed sets of reasons, shared by the proxy that counts
// (src/proxy/proxy-stats.ts) and the exporter that publishes (src/metrics/access-metrics.ts).

/** Why a TLS handshake failed, from the error Node reports ('tlsClientError'): a small fixed set. */
export const HANDSHAKE_FAILURE_REASONS = ['timeout', 'connection_closed', 'not_tls', 'protocol_version', 'no_shared_cipher', 'client_alert', 'other'] as const;
export type HandshakeFailureReason = (typeof HANDSHAKE_FAILURE_REASONS)[number];

/** Why a client certificate was refused on a database (the REST API's login codes where they mean the same). */
export const DATABASE_LOGIN_FAILURE_REASONS = [
  'no_client_certificate',
  'certificate_not_trusted',
  'client_certificate_expired',
  'client_certificate_not_yet_valid',
  'certificate_not_authorized',
] as const;
export type DatabaseLoginFailureReason = (typeof DATABASE_LOGIN_FAILURE_REASONS)[number];

export interface EndpointStats {
  connectionsOpen: number;
  connectionsTotal: number;
  handshakes: number;
  handshakeFailures: Record<string, number>;
  certificateLogins: number;
  certificateLoginFailures: Record<string, number>;
}

/** Per database uid (as a string: a JSON object key). */
export interface ProxyStatsSnapshot {
  endpoints: Record<string, EndpointStats>;
}
