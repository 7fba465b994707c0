// Counters of the database endpoints of one data-plane process (README "Metrics"): connections open and
// accepted, TLS handshakes done and failed (by a bounded reason), client-certificate logins accepted and
// refused (by reason), per database. Plain integers bumped once per connection, never per byte; the node
// reads a snapshot over the control socket (protocol.ts `stats`) and adds the processes up
// (addProxyStats), keeping totals across a process that was replaced.
import type net from 'node:net';
import {
  DATABASE_LOGIN_FAILURE_REASONS,
  HANDSHAKE_FAILURE_REASONS,
  type DatabaseLoginFailureReason,
  type EndpointStats,
  type HandshakeFailureReason,
  type ProxyStatsSnapshot,
} from '../domain/proxy-stats.js';

export { DATABASE_LOGIN_FAILURE_REASONS, HANDSHAKE_FAILURE_REASONS };
export type { DatabaseLoginFailureReason, EndpointStats, HandshakeFailureReason, ProxyStatsSnapshot };

export function handshakeFailureReason(error: { code?: string | undefined; message?: string }): HandshakeFailureReason {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'connection_closed';
  if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW|ALERT_PROTOCOL_VERSION|INAPPROPRIATE_FALLBACK/.test(code)) return 'protocol_version';
  if (/NO_SHARED_CIPHER|NO_SHARED_GROUP|NO_SUITABLE_KEY_SHARE|NO_CIPHERS_AVAILABLE|ALERT_HANDSHAKE_FAILURE/.test(code)) return 'no_shared_cipher';
  if (/ALERT/.test(code)) return 'client_alert';
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LENGTH_MISMATCH|BAD_RECORD|WRONG_SSL_VERSION/.test(code)) return 'not_tls';
  return 'other';
}

function emptyEndpoint(): EndpointStats {
  return { connectionsOpen: 0, connectionsTotal: 0, handshakes: 0, handshakeFailures: {}, certificateLogins: 0, certificateLoginFailures: {} };
}

/** The counters one data-plane process keeps (DatabaseProxyDeps.stats). */
export class ProxyStats {
  private readonly endpoints = new Map<number, EndpointStats>();

  private of(uid: number): EndpointStats {
    let entry = this.endpoints.get(uid);
    if (entry === undefined) {
      entry = emptyEndpoint();
      this.endpoints.set(uid, entry);
    }
    return entry;
  }

  /** A client connection was accepted; it counts as open until it closes. */
  connectionAccepted(uid: number, socket: net.Socket): void {
    const entry = this.of(uid);
    entry.connectionsTotal += 1;
    entry.connectionsOpen += 1;
    socket.once('close', () => {
      // The entry of a removed database is gone: nothing to decrement.
      if (this.endpoints.get(uid) === entry && entry.connectionsOpen > 0) entry.connectionsOpen -= 1;
    });
  }

  handshakeSucceeded(uid: number): void {
    this.of(uid).handshakes += 1;
  }

  handshakeFailed(uid: number, error: { code?: string | undefined; message?: string }): void {
    const failures = this.of(uid).handshakeFailures;
    const reason = handshakeFailureReason(error);
    failures[reason] = (failures[reason] ?? 0) + 1;
  }

  certificateLoginSucceeded(uid: number): void {
    this.of(uid).certificateLogins += 1;
  }

  certificateLoginFailed(uid: number, reason: DatabaseLoginFailureReason): void {
    const failures = this.of(uid).certificateLoginFailures;
    failures[reason] = (failures[reason] ?? 0) + 1;
  }

  /** A database that is no longer served: its series go away. */
  forget(uid: number): void {
    this.endpoints.delete(uid);
  }

  /** Makes sure a served database is reported (at zero) before its first connection. */
  declare(uid: number): void {
    this.of(uid);
  }

  snapshot(): ProxyStatsSnapshot {
    const endpoints: Record<string, EndpointStats> = {};
    for (const [uid, entry] of this.endpoints) {
      endpoints[String(uid)] = { ...entry, handshakeFailures: { ...entry.handshakeFailures }, certificateLoginFailures: { ...entry.certificateLoginFailures } };
    }
    return { endpoints };
  }
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) {
    if (typeof value === 'number' && Number.isFinite(value)) into[key] = (into[key] ?? 0) + value;
  }
}

/**
 * The sum of snapshots (several processes, or the totals of replaced ones). `withOpen: false` leaves out the
 * open-connections gauge (a replaced process's connections are gone).
 */
export function addProxyStats(snapshots: readonly ProxyStatsSnapshot[], options: { withOpen: boolean } = { withOpen: true }): ProxyStatsSnapshot {
  const endpoints: Record<string, EndpointStats> = {};
  for (const snapshot of snapshots) {
    for (const [uid, entry] of Object.entries(snapshot.endpoints)) {
      const sum = (endpoints[uid] ??= emptyEndpoint());
      if (options.withOpen) sum.connectionsOpen += entry.connectionsOpen;
      sum.connectionsTotal += entry.connectionsTotal;
      sum.handshakes += entry.handshakes;
      sum.certificateLogins += entry.certificateLogins;
      addCounts(sum.handshakeFailures, entry.handshakeFailures);
      addCounts(sum.certificateLoginFailures, entry.certificateLoginFailures);
    }
  }
  return { endpoints };
}

/** A client-certificate verdict's code (domain/client-certificate.ts) as a login failure reason. */
export function loginFailureOfVerdict(code: 'certificate_not_trusted' | 'certificate_expired' | 'certificate_not_yet_valid'): DatabaseLoginFailureReason {
  return code === 'certificate_expired' ? 'client_certificate_expired' : code === 'certificate_not_yet_valid' ? 'client_certificate_not_yet_valid' : 'certificate_not_trusted';
}
