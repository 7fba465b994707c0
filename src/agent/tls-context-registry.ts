// Which local TLS listeners use which certificate, and the hot swap of their context when it changes.
// setSecureContext() affects new handshakes only; open connections keep the context they started with.
// A listener can also depend on other certificates (the REST API on mtls_trusted_ca for client
// certificates) and on settings; it is rebuilt when any of them changes.
import type { SecureContextOptions } from 'node:tls';
import type { InstalledCertificate } from './certificate-files.js';

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

interface Registration {
  certificateName: string;
  server: ReloadableTlsServer;
  baseOptions: () => ListenerTlsOptions;
  dependsOn: ReadonlySet<string>;
}

export class TlsContextRegistry {
  private readonly registrations = new Set<Registration>();
  private readonly current = new Map<string, InstalledCertificate>();

  /** The certificate currently applied on this node, if any. */
  get(certificateName: string): InstalledCertificate | undefined {
    return this.current.get(certificateName);
  }

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
   * Records the applied certificate and reloads every listener that uses it or depends on it.
   * Throws (and keeps the old context) if a listener rejects the new one.
   */
  apply(certificateName: string, installed: InstalledCertificate | undefined): void {
    const previous = this.current.get(certificateName);
    if (installed === undefined) this.current.delete(certificateName);
    else this.current.set(certificateName, installed);
    try {
      for (const registration of this.registrations) {
        if (registration.certificateName === certificateName || registration.dependsOn.has(certificateName)) this.reload(registration);
      }
    } catch (error) {
      if (previous === undefined) this.current.delete(certificateName);
      else this.current.set(certificateName, previous);
      throw error;
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
    const own = this.current.get(registration.certificateName);
    if (own === undefined) return;
    const { requestCert, ...options } = registration.baseOptions();
    registration.server.setSecureContext({ ...options, cert: own.certificate, key: own.key });
    if (requestCert !== undefined) registration.server.requestCert = requestCert;
  }
}
