// The REST API listener's TLS policy: which certificate it serves (`api`), the cluster's control-plane TLS
// policy (min_control_TLS_version, control_cipher_suites, pq_key_exchange: domain/tls-policy), and whether it
// asks for client certificates (mtls_certificate_authentication with mtls_trusted_ca installed). The options
// are rebuilt on every change of the api certificate, of mtls_trusted_ca or of the cluster settings: new
// connections get them at once, open ones keep theirs. Client certificates are verified per request
// (CertificateAuthenticator), so requestCert never rejects a handshake and Basic auth keeps working.
import type { SecureContextOptions } from 'node:tls';
import { controlTlsPolicy } from '../domain/tls-policy.js';
import type { ClusterDocument } from '../domain/cluster-settings.js';

/** The listener options besides cert/key; requestCert is set on the server for new connections. */
export interface ApiListenerOptions extends SecureContextOptions {
  requestCert?: boolean;
}

export interface ApiTlsDeps {
  /** The cluster document as this node applied it, and its change notifications. */
  settings: { current(): ClusterDocument; onChange(listener: () => void): () => void };
  /** The certificates this node serves (its applied certificates). */
  certificates: { get(name: string): { certificate: string; key?: string | undefined } | undefined };
  /** Whether this OpenSSL knows the hybrid post-quantum group (asked once at start). */
  hybridKeyExchange: boolean;
}

/** Where the listener subscribes to rotations: the node's TLS context registry. */
export interface ApiTlsRegistry {
  register(certificateName: string, server: ApiTlsServer, baseOptions: () => ApiListenerOptions, dependsOn: readonly string[]): () => void;
  refresh(certificateName: string): void;
}

export interface ApiTlsServer {
  setSecureContext(options: SecureContextOptions): void;
  requestCert?: boolean;
}

/** The API listener's options (besides its certificate) under the current settings. */
export function apiListenerOptions(deps: ApiTlsDeps): ApiListenerOptions {
  const cluster = deps.settings.current();
  const trustedCa = deps.certificates.get('mtls_trusted_ca')?.certificate;
  const mtls = cluster.mtls_certificate_authentication && trustedCa !== undefined;
  return {
    ...controlTlsPolicy(cluster, deps.hybridKeyExchange),
    requestCert: mtls,
    ...(mtls ? { ca: trustedCa } : {}),
  };
}

/** The https options the API starts with (buildApi): the api certificate and the current policy. */
export function apiHttpsOptions(deps: ApiTlsDeps): ApiListenerOptions & { rejectUnauthorized: false } {
  const own = deps.certificates.get('api');
  if (own === undefined) throw new Error('the api certificate is not installed');
  const { requestCert, ...options } = apiListenerOptions(deps);
  return { ...options, cert: own.certificate, key: own.key, requestCert, rejectUnauthorized: false };
}

/** Keeps the listener's context current (certificate rotations, mtls_trusted_ca, settings); returns the undo. */
export function keepApiTlsCurrent(server: ApiTlsServer, registry: ApiTlsRegistry, deps: ApiTlsDeps): () => void {
  const unregister = registry.register('api', server, () => apiListenerOptions(deps), ['mtls_trusted_ca']);
  const unwatch = deps.settings.onChange(() => registry.refresh('api'));
  return () => {
    unwatch();
    unregister();
  };
}
