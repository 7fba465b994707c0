// Counters of this node's own processes (Prometheus counters, appended to the exporter's output), e.g. how
// often a data-plane process had to be restarted. Incremented by the part that sees the event (wired in
// src/node), read by the metrics exporter.
export class ProcessCounters {
  private readonly counters = new Map<string, { help: string; value: number }>();

  /** Declares a counter (at 0) so it is reported before its first event. */
  declare(name: string, help: string): void {
    if (!this.counters.has(name)) this.counters.set(name, { help, value: 0 });
  }

  increment(name: string, help: string): void {
    this.declare(name, help);
    (this.counters.get(name) as { value: number }).value += 1;
  }

  value(name: string): number {
    return this.counters.get(name)?.value ?? 0;
  }

  /** Prometheus text, one HELP/TYPE/value block per counter; labels: the node's. */
  render(labels: Record<string, string>): string {
    const text = Object.entries(labels)
      .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    return [...this.counters.entries()].map(([name, { help, value }]) => `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name}{${text}} ${value}\n`).join('');
  }
}

export const DATA_PLANE_RESTARTS = 'certplane_data_plane_restarts_total';
export const DATA_PLANE_RESTARTS_HELP = 'Data-plane processes restarted after they died';

/** Client certificates refused for revocation (certplane CRL extension): revoked, or status unknown under "refuse"; API login and database mTLS. */
export const CLIENT_CERTIFICATE_REVOKED = 'certplane_client_certificate_revoked_total';
export const CLIENT_CERTIFICATE_REVOKED_HELP = 'Client certificates refused by revocation checking (CRLs) on API login and database mutual TLS';
