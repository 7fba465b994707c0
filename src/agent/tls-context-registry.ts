// Which local TLS listeners use which certificate, and the hot swap of their context when it changes.
// setSecureContext() affects new handshakes only; open connections keep the context they started with.
import type { SecureContextOptions } from 'node:tls';
import type { InstalledCertificate } from './certificate-files.js';

export interface ReloadableTlsServer {
  setSecureContext(options: SecureContextOptions): void;
}

interface Registration {
  certificateName: string;
  server: ReloadableTlsServer;
  /** Options the listener needs besides cert/key (ca for mTLS, minVersion, ciphers…). */
  baseOptions: () => SecureContextOptions;
}

export class TlsContextRegistry {
  private readonly registrations = new Set<Registration>();
  private readonly current = new Map<string, InstalledCertificate>();

  /** The certificate currently applied on this node, if any. */
  get(certificateName: string): InstalledCertificate | undefined {
    return this.current.get(certificateName);
  }

  register(certificateName: string, server: ReloadableTlsServer, baseOptions: () => SecureContextOptions = () => ({})): () => void {
    const registration: Registration = { certificateName, server, baseOptions };
    this.registrations.add(registration);
    return () => this.registrations.delete(registration);
  }

  /** Records the applied certificate and reloads every listener that uses it. Throws if a listener rejects it. */
  apply(certificateName: string, installed: InstalledCertificate | undefined): void {
    if (installed === undefined) {
      this.current.delete(certificateName);
      return;
    }
    for (const registration of this.registrations) {
      if (registration.certificateName !== certificateName) continue;
      registration.server.setSecureContext({ ...registration.baseOptions(), cert: installed.certificate, key: installed.key });
    }
    this.current.set(certificateName, installed);
  }

  /** Rebuilds the contexts of listeners whose base options changed (e.g. a new trusted CA for mTLS). */
  refresh(certificateName: string): void {
    this.apply(certificateName, this.current.get(certificateName));
  }
}
