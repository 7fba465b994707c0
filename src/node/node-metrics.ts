// What this node's metrics exporter reports beyond RS's certificate-expiry series (README "Metrics"): the
// per-certificate series, OCSP, client-certificate logins (REST API here, databases from the data plane) and
// the database proxy's counters. The parts that feed it start after the exporter: until they are wired, their
// series are simply absent (OCSP: not enabled; proxy: no databases).
import type { Clock } from '../lib/clock.js';
import type { OcspSettings } from '../domain/ocsp-settings.js';
import type { OcspStatusRecord } from '../domain/ocsp-status.js';
import { CertificateMetrics, type InstalledCertificates } from '../metrics/certificate-metrics.js';
import { ocspFamilies } from '../metrics/ocsp-metrics.js';
import { accessFamilies, CertificateLoginCounters } from '../metrics/access-metrics.js';
import type { MetricsSource } from '../metrics/metrics-exporter.js';
import type { ProxyStatsSnapshot } from '../proxy/proxy-stats.js';

export class NodeMetrics {
  /** The REST API's client-certificate logins (ApiDeps.certificateLogins). */
  readonly apiCertificateLogins = new CertificateLoginCounters();
  /** The staple source's view of OCSP (set once OCSP is started). */
  ocsp: (() => { settings: OcspSettings; record: OcspStatusRecord | undefined }) | undefined;
  /** The data plane's counters (set once the databases are started). */
  proxy: (() => Promise<ProxyStatsSnapshot>) | undefined;
  private readonly certificates: CertificateMetrics;
  /** Scrapes that arrive together share one round trip to the data plane (the metrics port needs no login). */
  private proxyInFlight: Promise<ProxyStatsSnapshot> | undefined;

  constructor(names: readonly string[], installed: InstalledCertificates, clock: Clock) {
    this.certificates = new CertificateMetrics(names, installed, clock);
  }

  sources(): MetricsSource[] {
    return [
      () => this.certificates.collect(),
      () => {
        const current = this.ocsp?.();
        return ocspFamilies({ enabled: current?.settings.ocsp_functionality === true, record: current?.record, proxySerial: this.certificates.identity('proxy')?.serial });
      },
      async () => accessFamilies(this.apiCertificateLogins.counts(), await this.proxyStats()),
    ];
  }

  private proxyStats(): Promise<ProxyStatsSnapshot> | undefined {
    const proxy = this.proxy;
    if (proxy === undefined) return undefined;
    this.proxyInFlight ??= proxy().finally(() => (this.proxyInFlight = undefined));
    return this.proxyInFlight;
  }
}
