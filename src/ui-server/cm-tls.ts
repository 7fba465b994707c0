// The cm port's TLS: the `cm` certificate and the control-plane TLS policy of the REST API
// (min_control_TLS_version, control_cipher_suites, pq_key_exchange), rebuilt on a change of the cm certificate,
// of mtls_trusted_ca or of the cluster settings. Unlike the API port it always asks for a client certificate
// (optional: rejectUnauthorized stays false and a handshake is never refused), so that the UI can say why a
// presented certificate is not accepted even while certificate login is off. The trusted CA, when installed,
// is sent as the hint of acceptable issuers; the certificate is verified per request (CertificateAuthenticator).
import { controlTlsPolicy } from '../domain/tls-policy.js';
import type { ApiListenerOptions, ApiTlsDeps, ApiTlsRegistry, ApiTlsServer } from '../api/api-tls.js';

export function cmListenerOptions(deps: ApiTlsDeps): ApiListenerOptions {
  const trustedCa = deps.certificates.get('mtls_trusted_ca')?.certificate;
  return { ...controlTlsPolicy(deps.settings.current(), deps.hybridKeyExchange), requestCert: true, ...(trustedCa !== undefined ? { ca: trustedCa } : {}) };
}

/** The https options the cm listener starts with. */
export function cmHttpsOptions(deps: ApiTlsDeps): ApiListenerOptions & { rejectUnauthorized: false } {
  const own = deps.certificates.get('cm');
  if (own === undefined) throw new Error('the cm certificate is not installed');
  return { ...cmListenerOptions(deps), cert: own.certificate, key: own.key, requestCert: true, rejectUnauthorized: false };
}

/** Keeps the listener's context current (cm rotations, mtls_trusted_ca, settings); returns the undo. */
export function keepCmTlsCurrent(server: ApiTlsServer, registry: ApiTlsRegistry, deps: ApiTlsDeps): () => void {
  const unregister = registry.register('cm', server, () => cmListenerOptions(deps), ['mtls_trusted_ca']);
  const unwatch = deps.settings.onChange(() => registry.refresh('cm'));
  return () => {
    unwatch();
    unregister();
  };
}
