// Benchmark: certificate rotation across a cluster. A real etcd and three real certplane nodes (127.0.0.1-3),
// then N rotations of the `api` certificate: PUT /v1/cluster/certificates on one node (round robin) while a
// prober per node opens fresh TLS handshakes until that node presents the new certificate. Reports, p50/p99:
//   - PUT → 200 (the API confirmed every node applied it),
//   - PUT → every node presents the new certificate on a fresh handshake,
// and checks that the cluster keeps serving meanwhile (one keep-alive client per node, errors counted).
// Then (BENCH_AGENTS > 0) the same with that many extra node agents in one child process: each has its own
// etcd client, node uid, lease, data dir (files written and fsynced) and TLS listener that it hot-reloads, so
// the API waits for 3 + BENCH_AGENTS nodes. A small pool of probers sweeps the endpoints not yet rotated.
//
//   npm run bench:rotation               (builds, then runs dist/bench/rotation.js)
//   BENCH_ROTATIONS=20 BENCH_NODES=3 BENCH_AGENTS=50 BENCH_PROBE_INTERVAL_MS=2 node dist/bench/rotation.js
//
// Every process it starts (etcd, nodes) is stopped at the end, also on failure or Ctrl-C.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EtcdStore, parseEtcdUrl } from '../src/store/etcd/etcd-store.js';
import { NodeRegistration, resolveNodeId } from '../src/node/node-membership.js';
import { NodeAgent } from '../src/agent/node-agent.js';
import { CertificateFiles } from '../src/agent/certificate-files.js';
import { TlsContextRegistry } from '../src/agent/tls-context-registry.js';
import { AppliedCertificates } from '../src/agent/applied-certificates.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { toPem } from '../src/domain/pem.js';
import { CLI, freePort, httpsRequest, startChild, waitFor, type Child, type Credentials, type Endpoint } from './support.js';

x509.cryptoProvider.set(webcrypto);

const SELF = fileURLToPath(import.meta.url);
const ADMIN: Credentials = { email: 'bench-admin@example.com', password: 'Bench-Admin-Password-1' };

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return value;
}

function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body.includes('"health":"true"')));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

function request(node: Endpoint, method: string, urlPath: string, body?: unknown, agent: https.Agent | false = false): Promise<{ status: number; body: string }> {
  return httpsRequest(node, urlPath, { method, auth: ADMIN, body, agent });
}

/** Fresh TLS handshake (no session reuse); the SHA-256 fingerprint of the certificate the node presents. */
function presentedFingerprint(node: Endpoint): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: node.host, port: node.port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw).fingerprint256);
    });
    socket.on('error', reject);
  });
}

async function newCertificate(index: number): Promise<{ certificate: string; key: string; fingerprint: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (0x1000 + index).toString(16),
    name: `CN=cluster.local, O=rotation ${index}`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 30 * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'cluster.local' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
    ],
  });
  const key = toPem('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)));
  return { certificate: cert.toString('pem') + '\n', key, fingerprint: new X509Certificate(cert.toString('pem')).fingerprint256 };
}

// ---------------------------------------------------------------------------------------------------------
// Child mode: many node agents in one process, each a full member of the cluster except for the REST API.

async function runAgents(): Promise<void> {
  const [, , , storeUrl, dir, countText] = process.argv;
  const count = Number(countText);
  const log = createLogger('warn');
  const closers: Array<() => Promise<void>> = [];
  const ports: number[] = [];
  const startAgent = async (i: number): Promise<void> => {
    const dataDir = path.join(dir!, `agent-${i}`);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const store = new EtcdStore({ hosts: parseEtcdUrl(storeUrl!) });
    closers.push(() => store.close());
    const nodeId = await resolveNodeId(store, dataDir, true);
    const applied = new AppliedCertificates();
    const registry = new TlsContextRegistry(applied);
    const agent = new NodeAgent({ store, nodeId, files: new CertificateFiles(dataDir), applied, tls: registry, clock: systemClock, log });
    await agent.start();
    closers.push(() => agent.close());
    const api = applied.get('api')!;
    const server = tls.createServer({ cert: api.certificate, key: api.key });
    server.on('secureConnection', (socket) => socket.end());
    registry.register('api', server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    ports[i] = port;
    const registration = new NodeRegistration({ store, nodeId, name: `agent-${i}`, address: '127.0.0.1', apiPort: port, leaseTtlSeconds: 10, clock: systemClock, log });
    await registration.start();
    closers.push(() => registration.close());
  };
  // A few at a time: 50 simultaneous first reconciles would only queue on the disk.
  for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => startAgent(i + j)));
  process.stdout.write(`ready ${JSON.stringify(ports)}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  for (const closer of closers.reverse()) await closer().catch(() => undefined);
}

/** Sweeps the endpoints that do not yet present `fingerprint` with a few concurrent probers; ms until all do. */
async function sweepUntilRotated(endpoints: Endpoint[], fingerprint: string, started: number, probers: number): Promise<number> {
  const pending = new Set(endpoints);
  let last = 0;
  await Promise.all(
    Array.from({ length: probers }, async () => {
      while (pending.size > 0) {
        if (performance.now() - started > 60_000) throw new Error(`${pending.size} endpoints never rotated`);
        for (const endpoint of [...pending]) {
          if (!pending.has(endpoint)) continue;
          const seen = await presentedFingerprint(endpoint).catch(() => '');
          if (seen === fingerprint && pending.delete(endpoint)) last = Math.max(last, performance.now() - started);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }),
  );
  return last;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A keep-alive client per node issuing GET /v1/cluster/certificates back to back; counts answers and failures. */
function backgroundLoad(nodes: Endpoint[]): { stop(): Promise<{ ok: number; errors: number }> } {
  let running = true;
  let ok = 0;
  let errors = 0;
  const loops = nodes.map(async (node) => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    while (running) {
      try {
        const response = await request(node, 'GET', '/v1/cluster/certificates', undefined, agent);
        if (response.status === 200) ok++;
        else errors++;
      } catch {
        errors++;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    agent.destroy();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, errors };
    },
  };
}

async function main(): Promise<void> {
  const rotations = envNumber('BENCH_ROTATIONS', 20, 1, 1000);
  const nodeCount = envNumber('BENCH_NODES', 3, 1, 9);
  const probeIntervalMs = envNumber('BENCH_PROBE_INTERVAL_MS', 2, 0, 1000);
  const agentCount = envNumber('BENCH_AGENTS', 50, 0, 500);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-bench-rotation-'));
  const children: Child[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.filter((c) => c.name !== 'etcd').map((c) => c.stop()));
    await Promise.all(children.filter((c) => c.name === 'etcd').map((c) => c.stop()));
  };
  const onSignal = (): void => {
    void stopAll().finally(() => rm(dir, { recursive: true, force: true })).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    const clientPort = await freePort('127.0.0.1');
    const peerPort = await freePort('127.0.0.1');
    const etcd = startChild('etcd', 'etcd', [
      '--name', 'bench', '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `bench=http://127.0.0.1:${peerPort}`, '--log-level', 'warn', '--logger', 'zap',
    ]);
    children.push(etcd);
    await waitFor('etcd', () => etcdHealthy(clientPort), { child: etcd, timeoutMs: 60_000 });

    const nodes: Endpoint[] = [];
    for (let i = 1; i <= nodeCount; i++) {
      const address = `127.0.0.${i}`;
      const port = await freePort(address);
      nodes.push({ host: address, port });
      children.push(
        startChild(`node ${i}`, process.execPath, [
          CLI, 'start', '--data-dir', path.join(dir, `node-${i}`), '--address', address, '--api-port', String(port),
          '--store', `etcd://127.0.0.1:${clientPort}`, '--node-name', `node-${i}`,
        ], { env: { ...process.env, CERTPLANE_ADMIN_EMAIL: ADMIN.email, CERTPLANE_ADMIN_PASSWORD: ADMIN.password, CERTPLANE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' } }),
      );
    }
    await Promise.all(
      nodes.map((node, i) =>
        waitFor(`node ${i + 1}`, async () => (await request(node, 'GET', '/v1/bootstrap')).body.includes('"completed"'), { child: children[i + 1]!, timeoutMs: 60_000 }),
      ),
    );
    const put = (node: Endpoint, cert: { certificate: string; key: string }) =>
      request(node, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: cert.certificate, key: cert.key }] });
    const fmt = (n: number): string => `${n.toFixed(1)} ms`;
    const summary = (label: string, putMs: number[], allMs: number[]): string => {
      const p = [...putMs].sort((a, b) => a - b);
      const a = [...allMs].sort((x, y) => x - y);
      return [
        `${label}: PUT -> 200 (every node confirmed)          p50 ${fmt(percentile(p, 50))}  p99 ${fmt(percentile(p, 99))}  max ${fmt(p.at(-1)!)}`,
        `${label}: PUT -> new cert on every node (handshake)  p50 ${fmt(percentile(a, 50))}  p99 ${fmt(percentile(a, 99))}  max ${fmt(a.at(-1)!)}`,
      ].join('\n') + '\n';
    };
    /** `rotations` rotations (after one uncounted warm-up); `probe` resolves when every endpoint presents the cert. */
    const rotate = async (probe: (fingerprint: string, started: number) => Promise<number>): Promise<{ putMs: number[]; allMs: number[] }> => {
      const certificates = await Promise.all(Array.from({ length: rotations + 1 }, (_, i) => newCertificate(i)));
      const warm = await put(nodes[0]!, certificates[rotations]!);
      if (warm.status !== 200) throw new Error(`warm-up PUT answered ${warm.status}: ${warm.body}`);
      const putMs: number[] = [];
      const allMs: number[] = [];
      for (let r = 0; r < rotations; r++) {
        const cert = certificates[r]!;
        const started = performance.now();
        const probed = probe(cert.fingerprint, started);
        const response = await put(nodes[r % nodes.length]!, cert);
        const putDone = performance.now() - started;
        if (response.status !== 200) throw new Error(`rotation ${r}: PUT answered ${response.status}: ${response.body}`);
        putMs.push(putDone);
        allMs.push(await probed);
      }
      return { putMs, allMs };
    };

    process.stdout.write(`rotation: ${nodeCount} nodes on 127.0.0.1-${nodeCount}, etcd 127.0.0.1:${clientPort}, ${rotations} rotations of the api certificate\n`);
    const load = backgroundLoad(nodes);
    // One prober per node, each opening fresh handshakes every BENCH_PROBE_INTERVAL_MS.
    const nodesRun = await rotate(async (fingerprint, started) => {
      const seen = await Promise.all(
        nodes.map(async (node) => {
          for (;;) {
            if ((await presentedFingerprint(node).catch(() => '')) === fingerprint) return performance.now() - started;
            if (performance.now() - started > 30_000) throw new Error(`node ${node.host} never presented the new certificate`);
            await new Promise((resolve) => setTimeout(resolve, probeIntervalMs));
          }
        }),
      );
      return Math.max(...seen);
    });
    process.stdout.write(summary(`${nodeCount} nodes`, nodesRun.putMs, nodesRun.allMs));

    if (agentCount > 0) {
      const agents = startChild('agents', process.execPath, [SELF, 'agents', `etcd://127.0.0.1:${clientPort}`, path.join(dir, 'agents'), String(agentCount)]);
      children.push(agents);
      const startedAgents = performance.now();
      await waitFor('agents', async () => agents.output().includes('ready ['), { child: agents, timeoutMs: 180_000 });
      const ports = JSON.parse(/ready (\[[^\n]*\])/.exec(agents.output())![1]!) as number[];
      process.stdout.write(`rotation: + ${agentCount} node agents in one process (started in ${fmt(performance.now() - startedAgents)}), ${nodeCount + agentCount} nodes in all\n`);
      const endpoints = [...nodes, ...ports.map((port) => ({ host: '127.0.0.1', port }))];
      const agentsRun = await rotate((fingerprint, started) => sweepUntilRotated(endpoints, fingerprint, started, 4));
      process.stdout.write(summary(`${nodeCount}+${agentCount} nodes`, agentsRun.putMs, agentsRun.allMs));
    }
    const served = await load.stop();
    process.stdout.write(`cluster kept serving: ${served.ok} GET /v1/cluster/certificates answered 200 during the runs, ${served.errors} failed\n`);
    if (served.errors > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

(process.argv[2] === 'agents' ? runAgents() : main()).catch((error: unknown) => {
  process.stderr.write(`rotation benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
