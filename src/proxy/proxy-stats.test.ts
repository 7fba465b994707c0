import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { addProxyStats, handshakeFailureReason, ProxyStats } from './proxy-stats.js';

describe('proxy stats', () => {
  it('classifies handshake errors into a small fixed set', () => {
    expect(handshakeFailureReason({ code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })).toBe('timeout');
    expect(handshakeFailureReason({ code: 'ECONNRESET' })).toBe('connection_closed');
    expect(handshakeFailureReason({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' })).toBe('not_tls');
    expect(handshakeFailureReason({ code: 'ERR_SSL_HTTP_REQUEST' })).toBe('not_tls');
    expect(handshakeFailureReason({ code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' })).toBe('protocol_version');
    expect(handshakeFailureReason({ code: 'ERR_SSL_NO_SHARED_CIPHER' })).toBe('no_shared_cipher');
    expect(handshakeFailureReason({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' })).toBe('client_alert');
    expect(handshakeFailureReason({ code: 'ERR_SOMETHING_NEW' })).toBe('other');
    expect(handshakeFailureReason({})).toBe('other');
  });

  it('counts connections open until they close, and forgets a removed database', () => {
    const stats = new ProxyStats();
    const socket = new EventEmitter() as unknown as net.Socket;
    stats.connectionAccepted(1, socket);
    stats.connectionAccepted(1, new EventEmitter() as unknown as net.Socket);
    stats.handshakeSucceeded(1);
    stats.handshakeFailed(1, { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
    stats.certificateLoginFailed(1, 'certificate_not_trusted');
    stats.certificateLoginSucceeded(1);
    socket.emit('close');
    socket.emit('close');
    expect(stats.snapshot().endpoints['1']).toEqual({
      connectionsOpen: 1,
      connectionsTotal: 2,
      handshakes: 1,
      handshakeFailures: { timeout: 1 },
      certificateLogins: 1,
      certificateLoginFailures: { certificate_not_trusted: 1 },
    });
    stats.forget(1);
    expect(stats.snapshot().endpoints).toEqual({});
  });

  it('adds snapshots up; without open connections for replaced processes', () => {
    const a = { endpoints: { '1': { connectionsOpen: 2, connectionsTotal: 3, handshakes: 3, handshakeFailures: { timeout: 1 }, certificateLogins: 1, certificateLoginFailures: {} } } };
    const b = { endpoints: { '1': { connectionsOpen: 1, connectionsTotal: 1, handshakes: 0, handshakeFailures: { timeout: 2, not_tls: 1 }, certificateLogins: 0, certificateLoginFailures: { no_client_certificate: 1 } } } };
    expect(addProxyStats([a, b]).endpoints['1']).toEqual({ connectionsOpen: 3, connectionsTotal: 4, handshakes: 3, handshakeFailures: { timeout: 3, not_tls: 1 }, certificateLogins: 1, certificateLoginFailures: { no_client_certificate: 1 } });
    expect(addProxyStats([a, b], { withOpen: false }).endpoints['1']?.connectionsOpen).toBe(0);
  });
});
