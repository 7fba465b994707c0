// Which local TLS listeners use which certificate, and the hot swap of their context when it changes. The
// registry only builds and swaps contexts: the certificates come from the node's applied certificates
// (AppliedCertificates, kept by the node agent), read at every rebuild.
// setSecureContext() affects new handshakes only; open connections keep the context they started with.
// A listener can also depend on other certificates (the REST API on mtls_trusted_ca for client
// certificates) and on settings; it is rebuilt when any of them changes.
import type { SecureContextOptions } from 'node:tls';
import type { CertificateRecord } from '../store/certificate-records.js';

export interface ReloadableTlsServer {
  setSecureContext(options: SecureContextOptions): void;
  /** Read by Node for each new connection (tls.Server); set from ListenerTlsOptions.requestCert. */
  requestCert?: boolean;
}

/** Options a listener needs besides its own cert/key: trusted CAs for client certificates, minVersion… */
export interface ListenerTlsOptions extends SecureContextOptions {
  /** Ask clients for a certificate on new connections (verification stays with the listener). */
  requestCert?: boolean;
}

/** Where the registry reads the certificate a listener serves (AppliedCertificates). */
export interface CertificateLookup {
  get(certificateName: string): CertificateRecord | undefined;
}

interface Registration {
  certificateName: string;
  server: ReloadableTlsServer;
  baseOptions: () => ListenerTlsOptions;
  dependsOn: ReadonlySet<string>;
}

export class TlsContextRegistry {
  private readonly registrations = new Set<Registration>();

  constructor(private readonly certificates: CertificateLookup) {}

  register(
    certificateName: string,
    server: ReloadableTlsServer,
    baseOptions: () => ListenerTlsOptions = () => ({}),
    dependsOn: readonly string[] = [],
  ): () => void {
    const registration: Registration = { certificateName, server, baseOptions, dependsOn: new Set(dependsOn) };
    this.registrations.add(registration);
    return () => this.registrations.delete(registration);
  }

  /**
   * Rebuilds every listener that uses this certificate or depends on it, after it changed.
   * Throws if a listener rejects the new context (that listener keeps its old one).
   */
  reloadUsers(certificateName: string): void {
    for (const registration of this.registrations) {
      if (registration.certificateName === certificateName || registration.dependsOn.has(certificateName)) this.reload(registration);
    }
  }

  /** Rebuilds the contexts of listeners that use this certificate (e.g. their base options changed). */
  refresh(certificateName: string): void {
    for (const registration of this.registrations) {
      if (registration.certificateName === certificateName) this.reload(registration);
    }
  }

  /** Rebuilds every listener's context, e.g. after a settings change that its base options read. */
  refreshAll(): void {
    for (const registration of this.registrations) this.reload(registration);
  }

  private reload(registration: Registration): void {
    const own = this.certificates.get(registration.certificateName);
    if (own === undefined) return;
    const { requestCert, ...options } = registration.baseOptions();
    registration.server.setSecureContext({ ...options, cert: own.certificate, key: own.key });
    if (requestCert !== undefined) registration.server.requestCert = requestCert;
  }
}
