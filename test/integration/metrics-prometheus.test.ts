// certplane's own series (README "Metrics") against a real node and a real Prometheus (Debian's `prometheus`):
// per-certificate series with their identity labels, OCSP status and last success from a real `openssl ocsp`
// responder, client-certificate logins on the REST API and on a database (accepted and refused, by reason),
// the proxy's handshake and connection counters (a client that sends HTTP to the TLS port), and RS's v1/v2
// names. Prometheus scrapes the metrics port over TLS, trusting the metrics_exporter certificate
// (tls_config.ca_file), loads contrib/prometheus/certplane-rules.yml, and its HTTP API shows the series and a
// pending expiry alert. Prometheus is stopped by its PID at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import { freeDbPort, waitFor, waitForActive } from '../helpers/redis-cli.js';
import { freePort } from '../helpers/free-port.js';
import { isProcessAlive } from '../helpers/redis-cli.js';

const DAY = 86_400;
const RULES = path.resolve('contrib/prometheus/certplane-rules.yml');

let node: TestNode;
let responder: OcspResponder;
let proxy: TestCertificate;
let syncer: TestCertificate;
let clientCa: TestCertificate;
let operator: TestCertificate;
let dbPort: number;
let bdbUid: number;
let dir: string;
let prometheus: ChildProcess | undefined;
let prometheusPort: number;
let prometheusLog = '';
const openSockets: net.Socket[] = [];

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(node.port, { method, path: apiPath, body, auth: node.admin });

function scrape(port: number, urlPath = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** The value of the one sample of `metric` whose labels include all of `labels`. */
function sampleValue(body: string, metric: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = body.split('\n').find((l) => l.startsWith(`${metric}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

function promGet(apiPath: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: prometheusPort, path: apiPath, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(new Error(`Prometheus answered ${res.statusCode}: ${body.slice(0, 200)}`, { cause: error }));
          }
        });
      })
      .on('error', reject);
  });
}

async function promQuery(query: string): Promise<PromSeries[]> {
  const body = await promGet(`/api/v1/query?query=${encodeURIComponent(query)}`);
  if (body.status !== 'success') throw new Error(`query ${query}: ${JSON.stringify(body)}`);
  return body.data.result as PromSeries[];
}

/** Waits until Prometheus has at least one series for the query (a few scrapes). */
function series(query: string): Promise<PromSeries[]> {
  return waitFor(`Prometheus to have ${query}`, async () => {
    const result = await promQuery(query);
    return result.length > 0 ? result : undefined;
  }, 60_000, 250);
}

/** A TLS client of the database endpoint; resolves with the first reply line (the connection stays open when kept). */
function databaseClient(cert: TestCertificate, keep: boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: dbPort, cert: cert.certificate, key: cert.key, rejectUnauthorized: false }, () => socket.write('PING\r\n'));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (!reply.includes('\r\n')) return;
      if (keep) openSockets.push(socket);
      else socket.destroy();
      resolve(reply.split('\r\n')[0]!);
    });
    // A refused client may see a reset after the refusal line: 'close' resolves with what arrived.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply.split('\r\n')[0] ?? ''));
  });
}

/** Plain HTTP sent to the TLS database port: a failed handshake (not_tls). */
function garbageClient(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(dbPort, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

async function startPrometheus(): Promise<void> {
  prometheusPort = await freePort();
  const caFile = path.join(node.dataDir, 'certs', 'metrics_exporter_cert.pem');
  const job = (name: string, metricsPath: string): string => `  - job_name: ${name}
    scheme: https
    metrics_path: ${metricsPath}
    tls_config:
      ca_file: ${caFile}
    static_configs:
      - targets: ['127.0.0.1:${node.metricsPort}']
`;
  const config = `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - ${RULES}
scrape_configs:
${job('certplane', '/')}${job('certplane-v2', '/v2')}`;
  const configPath = path.join(dir, 'prometheus.yml');
  await writeFile(configPath, config);
  const child = spawn('prometheus', [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${prometheusPort}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  prometheus = child;
  await waitFor('Prometheus to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${prometheusLog}`);
    const body = await promGet('/api/v1/status/buildinfo').catch(() => undefined);
    return body?.status === 'success';
  }, 60_000, 200);
}

async function stopPrometheus(): Promise<void> {
  const child = prometheus;
  if (child?.pid === undefined || child.exitCode !== null) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, 'SIGTERM');
  const done = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
  if (!done && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-prometheus-'));
  responder = await startOcspResponder();
  proxy = await responder.issue({ cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256', freshKey: true });
  node = await startTestNode();
  const syncerCa = await createCa({ cn: 'Metrics Syncer CA', curve: 'P-256' });
  syncer = await issueCertificate(syncerCa, { cn: 'syncer.cluster.local', curve: 'P-256', notAfter: new Date(Date.now() + 20 * DAY * 1000), freshKey: true });
  clientCa = await createCa({ cn: 'Metrics Client CA', curve: 'P-256' });
  operator = await issueCertificate(clientCa, { subject: 'CN=metrics-operator,O=Acme', eku: ['clientAuth'], curve: 'P-256', freshKey: true });

  const put = await api('PUT', '/v1/cluster/certificates', {
    certificates: [
      { name: 'proxy', certificate: proxy.chain, key: proxy.key },
      { name: 'syncer', certificate: syncer.certificate, key: syncer.key },
      { name: 'mtls_trusted_ca', certificate: clientCa.certificate },
    ],
  });
  expect(put.status, put.text).toBe(200);
  expect((await api('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' })).status).toBe(200);
  expect((await api('POST', '/v1/users', { name: 'metrics-operator', auth_method: 'certificate', certificate_subject_line: 'CN=metrics-operator,O=Acme', role: 'cluster_viewer' })).status).toBe(200);
  expect((await api('PUT', '/v1/ocsp', { ocsp_functionality: true })).status).toBe(200);

  dbPort = await freeDbPort();
  const created = await api('POST', '/v1/bdbs', {
    name: 'metered',
    memory_size: 50_000_000,
    port: dbPort,
    tls_mode: 'enabled',
    enforce_client_authentication: 'enabled',
    authentication_ssl_client_certs: [{ client_cert: clientCa.certificate }],
  });
  expect(created.status, created.text).toBe(200);
  bdbUid = created.json.uid;
  await waitForActive(node.port, node.admin, bdbUid);
});

afterAll(async () => {
  for (const socket of openSockets) socket.destroy();
  await stopPrometheus();
  await node?.destroy();
  await responder?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('certplane series', () => {
  it('counts client-certificate logins on the REST API, accepted and refused by reason', async () => {
    const stranger = await issueCertificate(clientCa, { subject: 'CN=nobody,O=Acme', eku: ['clientAuth'], curve: 'P-256', freshKey: true });
    const outsider = await issueCertificate(await createCa({ cn: 'Other CA', curve: 'P-256' }), { subject: 'CN=metrics-operator,O=Acme', eku: ['clientAuth'], curve: 'P-256', freshKey: true });
    const before = await scrape(node.metricsPort);
    expect(sampleValue(before, 'certplane_client_certificate_logins_total', { interface: 'api' })).toBe(0);
    expect((await apiRequest(node.port, { path: '/v1/cluster', cert: operator.certificate, key: operator.key })).status).toBe(200);
    expect((await apiRequest(node.port, { path: '/v1/cluster', cert: operator.certificate, key: operator.key })).status).toBe(200);
    const unknown = await apiRequest(node.port, { path: '/v1/cluster', cert: stranger.certificate, key: stranger.key });
    expect(unknown.json.error_code).toBe('unknown_certificate_user');
    const untrusted = await apiRequest(node.port, { path: '/v1/cluster', cert: outsider.certificate, key: outsider.key });
    expect(untrusted.json.error_code).toBe('certificate_not_trusted');
    const body = await scrape(node.metricsPort);
    expect(sampleValue(body, 'certplane_client_certificate_logins_total', { interface: 'api' })).toBe(2);
    expect(sampleValue(body, 'certplane_client_certificate_login_failures_total', { interface: 'api', reason: 'unknown_certificate_user' })).toBe(1);
    expect(sampleValue(body, 'certplane_client_certificate_login_failures_total', { interface: 'api', reason: 'certificate_not_trusted' })).toBe(1);
    // Password logins are not certificate logins.
    expect((await api('GET', '/v1/cluster')).status).toBe(200);
    expect(sampleValue(await scrape(node.metricsPort), 'certplane_client_certificate_logins_total', { interface: 'api' })).toBe(2);
  });

  it('counts database handshakes, connections and certificate logins in the data plane, and reports them through the node', async () => {
    const outsider = await issueCertificate(await createCa({ cn: 'Outsider CA', curve: 'P-256' }), { subject: 'CN=outsider', eku: ['clientAuth'], curve: 'P-256', freshKey: true });
    expect(await databaseClient(operator, true)).toBe('+PONG');
    expect(await databaseClient(operator, false)).toBe('+PONG');
    expect(await databaseClient(outsider, false)).toMatch(/^-ERR connection refused: client certificate not trusted/);
    await garbageClient();
    const bdb = String(bdbUid);
    const body = await waitFor('the data plane counters', async () => {
      const text = await scrape(node.metricsPort);
      return (sampleValue(text, 'certplane_proxy_tls_handshake_failures_total', { bdb, reason: 'not_tls' }) ?? 0) >= 1 && sampleValue(text, 'certplane_proxy_connections_open', { bdb }) === 1 ? text : undefined;
    });
    expect(sampleValue(body, 'certplane_proxy_connections_total', { bdb })).toBe(4);
    expect(sampleValue(body, 'certplane_proxy_tls_handshakes_total', { bdb })).toBe(3);
    expect(sampleValue(body, 'certplane_client_certificate_logins_total', { interface: 'database' })).toBe(2);
    expect(sampleValue(body, 'certplane_client_certificate_login_failures_total', { interface: 'database', reason: 'certificate_not_trusted' })).toBe(1);
    expect(sampleValue(body, 'certplane_client_certificate_login_failures_total', { interface: 'database', reason: 'no_client_certificate' })).toBe(0);
  });

  it('reports every certificate with its identity, and the OCSP status with the last success time', async () => {
    const body = await waitFor('a GOOD OCSP status in the metrics', async () => {
      const text = await scrape(node.metricsPort, '/v2');
      return sampleValue(text, 'certplane_ocsp_certificate_status', { status: 'good' }) === 1 ? text : undefined;
    }, 60_000, 200);
    const syncerLabels = { name: 'syncer', subject_cn: 'syncer.cluster.local', issuer: 'CN=Metrics Syncer CA', serial: syncer.x509.serialNumber.toLowerCase().replace(/^0+/, '') };
    const notAfter = sampleValue(body, 'certplane_certificate_not_after_timestamp_seconds', syncerLabels);
    expect(notAfter).toBe(Date.parse(syncer.x509.validTo) / 1000);
    const left = sampleValue(body, 'certplane_certificate_expires_in_seconds', syncerLabels)!;
    expect(left).toBeGreaterThan(19 * DAY);
    expect(left).toBeLessThanOrEqual(20 * DAY);
    const proxySerial = proxy.x509.serialNumber.toLowerCase().replace(/^0+/, '');
    expect(sampleValue(body, 'certplane_ocsp_certificate_status', { name: 'proxy', serial: proxySerial, status: 'revoked' })).toBe(0);
    const success = sampleValue(body, 'certplane_ocsp_last_success_timestamp_seconds', { name: 'proxy', serial: proxySerial })!;
    expect(Math.abs(success - Date.now() / 1000)).toBeLessThan(600);
    expect(sampleValue(body, 'certplane_ocsp_query_failing', { name: 'proxy' })).toBe(0);
    expect(sampleValue(body, 'certplane_ocsp_enabled', {})).toBe(1);
    // RS's own series stay as they were.
    expect(sampleValue(body, 'node_cert_expires_in_seconds', { logical_name: 'syncer' })).toBeLessThanOrEqual(20 * DAY);
  });
});

describe('scraped by a real Prometheus over TLS', () => {
  beforeAll(async () => {
    await startPrometheus();
  });

  it('scrapes both pages, verifying the metrics_exporter certificate, and loads the rules file', async () => {
    const up = await waitFor('both jobs up', async () => {
      const result = await promQuery('up == 1');
      return result.length === 2 ? result : undefined;
    }, 60_000, 250);
    expect(up.map((s) => s.metric.job).sort()).toEqual(['certplane', 'certplane-v2']);
    const rules = await promGet('/api/v1/rules');
    const groups = (rules.data.groups as Array<{ name: string; rules: Array<{ name: string; health: string }> }>);
    expect(groups.map((g) => g.name).sort()).toEqual(['certplane-certificates', 'certplane-logins', 'certplane-ocsp']);
    for (const rule of groups.flatMap((g) => g.rules)) expect(rule.health, `${rule.name}: ${prometheusLog}`).not.toBe('err');
  });

  it('has the per-certificate, OCSP, login, proxy and RS series with the expected labels', async () => {
    const [syncerSeries] = await series('certplane_certificate_not_after_timestamp_seconds{job="certplane",name="syncer"}');
    expect(syncerSeries!.metric).toMatchObject({
      cluster: 'cluster.local',
      node: '1',
      name: 'syncer',
      subject_cn: 'syncer.cluster.local',
      issuer: 'CN=Metrics Syncer CA',
      serial: syncer.x509.serialNumber.toLowerCase().replace(/^0+/, ''),
      not_after: new Date(Date.parse(syncer.x509.validTo)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    expect(Number(syncerSeries!.value[1])).toBe(Date.parse(syncer.x509.validTo) / 1000);
    const names = (await series('certplane_certificate_expires_in_seconds{job="certplane"}')).map((s) => s.metric.name).sort();
    expect(names).toEqual(expect.arrayContaining(['api', 'ccs_internode_encryption', 'cm', 'metrics_exporter', 'mtls_trusted_ca', 'proxy', 'syncer']));

    const [good] = await series('certplane_ocsp_certificate_status{job="certplane",status="good"} == 1');
    expect(good!.metric).toMatchObject({ name: 'proxy', serial: proxy.x509.serialNumber.toLowerCase().replace(/^0+/, ''), status: 'good', node: '1' });
    const [lastSuccess] = await series('certplane_ocsp_last_success_timestamp_seconds{job="certplane"}');
    expect(Math.abs(Number(lastSuccess!.value[1]) - Date.now() / 1000)).toBeLessThan(600);

    const logins = await series('certplane_client_certificate_logins_total{job="certplane"} > 0');
    expect(logins.map((s) => s.metric.interface).sort()).toEqual(['api', 'database']);
    const refused = await series('certplane_client_certificate_login_failures_total{job="certplane"} > 0');
    expect(refused.map((s) => `${s.metric.interface}/${s.metric.reason}`).sort()).toEqual(['api/certificate_not_trusted', 'api/unknown_certificate_user', 'database/certificate_not_trusted']);

    const [open] = await series(`certplane_proxy_connections_open{job="certplane",bdb="${bdbUid}"}`);
    expect(open!.value[1]).toBe('1');
    const [notTls] = await series(`certplane_proxy_tls_handshake_failures_total{job="certplane",bdb="${bdbUid}",reason="not_tls"}`);
    expect(Number(notTls!.value[1])).toBeGreaterThanOrEqual(1);

    const [v1] = await series('node_cert_expiration_seconds{job="certplane",logical_name="api"}');
    expect(v1!.metric).toMatchObject({ cluster: 'cluster.local', node: '1', path: path.join(node.dataDir, 'certs', 'api_cert.pem') });
    await series('node_cert_expires_in_seconds{job="certplane-v2",logical_name="syncer"}');
  });

  it('evaluates the rules: the syncer certificate (20 days left) makes the 30-day alert pending, nothing else', async () => {
    const alerts = await waitFor('a pending expiry alert', async () => {
      const body = await promGet('/api/v1/alerts');
      const list = body.data.alerts as Array<{ labels: Record<string, string>; state: string }>;
      return list.some((a) => a.labels.alertname === 'CertplaneCertificateExpiresIn30Days') ? list : undefined;
    }, 60_000, 250);
    expect(alerts.map((a) => `${a.labels.alertname}/${a.labels.name}`)).toEqual(['CertplaneCertificateExpiresIn30Days/syncer']);
    expect(alerts[0]!.labels).toMatchObject({ severity: 'warning', subject_cn: 'syncer.cluster.local', cluster: 'cluster.local' });
  });

  it('stops Prometheus by its PID', async () => {
    const pid = prometheus!.pid!;
    await stopPrometheus();
    expect(isProcessAlive(pid)).toBe(false);
  });
});

describe('a data-plane process that dies', () => {
  it('loses its open connections from the gauge but none of the counted totals', async () => {
    const bdb = String(bdbUid);
    const before = await scrape(node.metricsPort);
    const total = sampleValue(before, 'certplane_proxy_connections_total', { bdb })!;
    const handshakes = sampleValue(before, 'certplane_proxy_tls_handshakes_total', { bdb })!;
    const logins = sampleValue(before, 'certplane_client_certificate_logins_total', { interface: 'database' })!;
    const notTls = sampleValue(before, 'certplane_proxy_tls_handshake_failures_total', { bdb, reason: 'not_tls' })!;
    expect(sampleValue(before, 'certplane_proxy_connections_open', { bdb })).toBe(1);
    const pidFile = path.join(node.dataDir, 'data-plane', 'data-plane-0.pid');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    await waitFor('a new data-plane process', async () => {
      const next = Number((await readFile(pidFile, 'utf8').catch(() => '0')).trim());
      return next !== pid && next > 0 && isProcessAlive(next);
    }, 60_000, 100);
    // The new process serves the endpoint; one more login is added to the kept totals.
    expect(await waitFor('the endpoint again', async () => ((await databaseClient(operator, false).catch(() => '')) === '+PONG' ? '+PONG' : undefined), 60_000, 200)).toBe('+PONG');
    const after = await waitFor('counters of the new process', async () => {
      const text = await scrape(node.metricsPort);
      return (sampleValue(text, 'certplane_proxy_connections_total', { bdb }) ?? 0) > total ? text : undefined;
    }, 30_000, 200);
    expect(sampleValue(after, 'certplane_proxy_connections_open', { bdb })).toBe(0);
    expect(sampleValue(after, 'certplane_proxy_connections_total', { bdb })).toBeGreaterThanOrEqual(total + 1);
    expect(sampleValue(after, 'certplane_proxy_tls_handshakes_total', { bdb })).toBeGreaterThanOrEqual(handshakes + 1);
    expect(sampleValue(after, 'certplane_client_certificate_logins_total', { interface: 'database' })).toBeGreaterThanOrEqual(logins + 1);
    expect(sampleValue(after, 'certplane_proxy_tls_handshake_failures_total', { bdb, reason: 'not_tls' })).toBe(notTls);
    expect(sampleValue(after, 'certplane_data_plane_restarts_total', {})).toBe(1);
  });
});
