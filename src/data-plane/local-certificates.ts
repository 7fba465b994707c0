// The data plane's side of ProxyCertificateSource: the `proxy` certificate as the node last sent it, and the
// TLS servers (one per TLS endpoint front) that serve it. A new certificate is checked against its key first
// (tls.createSecureContext throws on a mismatch), then swapped into every server with setSecureContext (new
// handshakes only; open connections keep theirs). A server that rejects it puts every server back on the old
// one and the change is reported as not applied: no server ever serves a certificate without its key.
import tls, { type SecureContextOptions } from 'node:tls';
import type { ProxyCertificateSource } from '../proxy/database-proxy.js';

interface Installed {
  certificate: string;
  key: string;
}

interface Registration {
  name: string;
  server: { setSecureContext(options: SecureContextOptions): void };
  baseOptions: () => SecureContextOptions;
}

export class LocalCertificates implements ProxyCertificateSource {
  private readonly current = new Map<string, Installed>();
  private readonly registrations = new Set<Registration>();

  get(name: string): Installed | undefined {
    return this.current.get(name);
  }

  register(name: string, server: Registration['server'], baseOptions: () => SecureContextOptions): () => void {
    const registration = { name, server, baseOptions };
    this.registrations.add(registration);
    return () => this.registrations.delete(registration);
  }

  /** Installs a certificate and swaps it into every server that uses it; throws (changing nothing) if it cannot. */
  install(name: string, next: Installed): void {
    const previous = this.current.get(name);
    if (previous?.certificate === next.certificate && previous.key === next.key) return;
    tls.createSecureContext({ cert: next.certificate, key: next.key });
    const using = [...this.registrations].filter((r) => r.name === name);
    const done: Registration[] = [];
    try {
      for (const registration of using) {
        registration.server.setSecureContext({ ...registration.baseOptions(), cert: next.certificate, key: next.key });
        done.push(registration);
      }
    } catch (error) {
      if (previous !== undefined) {
        for (const registration of done) registration.server.setSecureContext({ ...registration.baseOptions(), cert: previous.certificate, key: previous.key });
      }
      throw error;
    }
    this.current.set(name, next);
  }
}
