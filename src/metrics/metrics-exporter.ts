// The metrics exporter (DESIGN.md, digest §2.11): Prometheus text over HTTPS with the `metrics_exporter`
// certificate (hot-reloaded like every listener), reporting how long each certificate this node serves
// stays valid: v1 `node_cert_expiration_seconds` at `/`, v2 `node_cert_expires_in_seconds` at `/v2`.
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../lib/clock.js';
import type { ProcessCounters } from './process-counters.js';
import { renderFamilies, type MetricFamily } from './prometheus-text.js';

/** More series for both pages (certificates, OCSP, logins, proxy): collected per scrape, cheaply. */
export type MetricsSource = () => MetricFamily[] | Promise<MetricFamily[]>;

export interface InstalledCertificateSource {
  /** The certificate (PEM chain) this node currently serves under a name, if any. */
  get(name: string): { certificate: string; key?: string | undefined } | undefined;
  register(name: string, server: { setSecureContext(options: SecureContextOptions): void }, baseOptions: () => SecureContextOptions): () => void;
}

export interface MetricsExporterOptions {
  address: string;
  port: number;
  clusterName: string;
  nodeId: string;
  dataDir: string;
  certificateNames: readonly string[];
  certificates: InstalledCertificateSource;
  clock: Clock;
  log: FastifyBaseLogger;
  /** The cluster's control-plane TLS policy (min_control_TLS_version, control_cipher_suites, pq_key_exchange), read on every reload. */
  tlsPolicy?: () => Pick<SecureContextOptions, 'minVersion' | 'ciphers' | 'ecdhCurve'>;
  limits?: MetricsLimits;
  /** This node's process counters (data-plane restarts…), appended to both pages. */
  counters?: ProcessCounters;
  /** certplane's own series (README "Metrics"), each sample labelled with cluster and node first. */
  sources?: readonly MetricsSource[];
}

/** The sources' families with the node's labels; a source that fails is logged and left out of this scrape. */
export async function renderSources(sources: readonly MetricsSource[], base: Record<string, string>, log: Pick<FastifyBaseLogger, 'warn'>): Promise<string> {
  const collected = await Promise.all(
    sources.map(async (source) => {
      try {
        return await source();
      } catch (error) {
        log.warn({ err: error }, 'a metrics source failed; its series are left out of this scrape');
        return [];
      }
    }),
  );
  const families = collected.flat().map((family) => ({ ...family, samples: family.samples.map((sample) => ({ labels: { ...base, ...sample.labels }, value: sample.value })) }));
  return renderFamilies(families);
}

/** Timeouts and the connection cap of the metrics listener (README "Limits and timeouts"). */
export interface MetricsLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export interface MetricsExporter {
  port: number;
  close(): Promise<void>;
}

const METRICS = {
  '/': { name: 'node_cert_expiration_seconds', help: 'Seconds until the certificate expires (v1)' },
  '/v2': { name: 'node_cert_expires_in_seconds', help: 'Seconds until the certificate expires (v2)' },
} as const;

export function renderCertificateMetrics(url: keyof typeof METRICS, options: Omit<MetricsExporterOptions, 'address' | 'port' | 'log'>): string {
  const metric = METRICS[url];
  const now = options.clock.now().getTime();
  const lines = [`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`];
  for (const name of options.certificateNames) {
    const installed = options.certificates.get(name);
    if (installed === undefined) continue;
    const leaf = new X509Certificate(installed.certificate);
    const seconds = Math.floor((Date.parse(leaf.validTo) - now) / 1000);
    const labels = {
      cluster: options.clusterName,
      logical_name: name,
      node: options.nodeId,
      path: path.join(options.dataDir, 'certs', `${name}_cert.pem`),
    };
    const text = Object.entries(labels)
      .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    lines.push(`${metric.name}{${text}} ${seconds}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts the exporter; a port that cannot be bound is logged and leaves the node running without metrics. */
export async function startMetricsExporter(options: MetricsExporterOptions): Promise<MetricsExporter | undefined> {
  const own = options.certificates.get('metrics_exporter');
  if (own?.key === undefined) {
    options.log.error('the metrics_exporter certificate is not installed: metrics are not served');
    return undefined;
  }
  const policy = (): SecureContextOptions => ({ minVersion: 'TLSv1.2', ...options.tlsPolicy?.() });
  const limits = options.limits;
  const serverOptions = limits === undefined
    ? {}
    : {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        handshakeTimeout: limits.headersTimeoutMs,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      };
  const server = https.createServer({ ...serverOptions, ...policy(), cert: own.certificate, key: own.key }, (request, response) => {
    const url = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || (url !== '/' && url !== '/v2')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const base = { cluster: options.clusterName, node: options.nodeId };
    const counters = options.counters?.render(base) ?? '';
    const rs = renderCertificateMetrics(url, options) + counters;
    renderSources(options.sources ?? [], base, options.log).then(
      (own) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(rs + own),
      (error: unknown) => {
        options.log.error({ err: error }, 'metrics scrape failed');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      },
    );
  });
  if (limits !== undefined) server.maxConnections = limits.maxConnections;
  const unregister = options.certificates.register('metrics_exporter', server, policy);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    unregister();
    options.log.error({ err: error, port: options.port }, 'the metrics exporter could not listen: metrics are not served');
    return undefined;
  }
  const port = (server.address() as AddressInfo).port;
  options.log.info({ port }, 'metrics exporter listening');
  return {
    port,
    close: async () => {
      unregister();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
