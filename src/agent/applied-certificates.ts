// The certificates this node serves right now: what its node agent last applied (files written, listeners
// reloaded), by certificate name. The agent is the only writer; the TLS context registry builds listener
// contexts from it, the metrics exporter reports its expiry, and listeners read it when they start.
import type { CertificateRecord } from '../store/certificate-records.js';

export class AppliedCertificates {
  private readonly current = new Map<string, CertificateRecord>();

  /** The certificate currently applied on this node under this name, if any. */
  get(name: string): CertificateRecord | undefined {
    return this.current.get(name);
  }

  /** The names of every certificate applied on this node. */
  names(): string[] {
    return [...this.current.keys()];
  }

  /** Records what this node now serves under a name (undefined: nothing any more). */
  set(name: string, record: CertificateRecord | undefined): void {
    if (record === undefined) this.current.delete(name);
    else this.current.set(name, record);
  }
}
