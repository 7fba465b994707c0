import type { SecureContextOptions } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { AppliedCertificates } from './applied-certificates.js';
import { TlsContextRegistry } from './tls-context-registry.js';

function fakeServer(): { contexts: SecureContextOptions[]; setSecureContext(options: SecureContextOptions): void; requestCert?: boolean } {
  const contexts: SecureContextOptions[] = [];
  return { contexts, setSecureContext: (options) => contexts.push(options) };
}

describe('TlsContextRegistry', () => {
  it('builds contexts from the applied certificates, for users and dependants of a certificate only', () => {
    const applied = new AppliedCertificates();
    const registry = new TlsContextRegistry(applied);
    const api = fakeServer();
    const metrics = fakeServer();
    registry.register('api', api, () => ({ minVersion: 'TLSv1.3', requestCert: true }), ['mtls_trusted_ca']);
    registry.register('metrics_exporter', metrics);
    applied.set('api', { certificate: 'A', key: 'a' });
    registry.reloadUsers('api');
    expect(api.contexts).toEqual([{ minVersion: 'TLSv1.3', cert: 'A', key: 'a' }]);
    expect(api.requestCert).toBe(true);
    expect(metrics.contexts).toEqual([]);
    registry.reloadUsers('mtls_trusted_ca');
    expect(api.contexts).toHaveLength(2);
    // A listener whose own certificate is not applied keeps its context.
    registry.refreshAll();
    expect(metrics.contexts).toEqual([]);
    expect(applied.names()).toEqual(['api']);
  });
});
