// Benchmark: certificate rotation across a cluster. A real etcd and three real certplane nodes (127.0.0.1-3),
// then N rotations of the `api` certificate: PUT /v1/cluster/certificates on one node (round robin) while a
// prober per node opens fresh TLS handshakes until that node presents the new certificate. Reports, p50/p99:
//   - PUT → 200 (the API confirmed every node applied it),
//   - PUT → every node presents the new certificate on a fresh handshake,
// and checks that the cluster keeps serving meanwhile (one keep-alive client per node, errors counted).
//
//   npm run bench:rotation               (builds, then runs dist/bench/rotation.js)
//   BENCH_ROTATIONS=20 BENCH_NODES=3 BENCH_PROBE_INTERVAL_MS=2 node dist/bench/rotation.js
//
// Every process it starts (etcd, nodes) is stopped at the end, also on failure or Ctrl-C.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { spawn, type ChildProcess } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

x509.cryptoProvider.set(webcrypto);

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ADMIN = { email: 'bench-admin@example.com', password: 'Bench-Admin-Password-1' };

interface Child {
  name: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

interface NodeEndpoint {
  address: string;
  port: number;
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return value;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  let output = '';
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitFor(child: Child, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited:\n${child.output()}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${child.name} not ready within ${timeoutMs} ms:\n${child.output()}`);
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

function request(node: NodeEndpoint, method: string, urlPath: string, body?: unknown, agent: https.Agent | false = false): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: node.address,
        port: node.port,
        path: urlPath,
        method,
        agent,
        rejectUnauthorized: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${ADMIN.email}:${ADMIN.password}`).toString('base64')}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Fresh TLS handshake (no session reuse); the SHA-256 fingerprint of the certificate the node presents. */
function presentedFingerprint(node: NodeEndpoint): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: node.address, port: node.port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw).fingerprint256);
    });
    socket.on('error', reject);
  });
}

async function newCertificate(index: number): Promise<{ certificate: string; key: string; fingerprint: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
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
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { certificate: cert.toString('pem') + '\n', key, fingerprint: new X509Certificate(cert.toString('pem')).fingerprint256 };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A keep-alive client per node issuing GET /v1/cluster/certificates back to back; counts answers and failures. */
function backgroundLoad(nodes: NodeEndpoint[]): { stop(): Promise<{ ok: number; errors: number }> } {
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
    await waitFor(etcd, () => etcdHealthy(clientPort));

    const nodes: NodeEndpoint[] = [];
    for (let i = 1; i <= nodeCount; i++) {
      const address = `127.0.0.${i}`;
      const port = await freePort(address);
      nodes.push({ address, port });
      children.push(
        startChild(`node ${i}`, process.execPath, [
          CLI, 'start', '--data-dir', path.join(dir, `node-${i}`), '--address', address, '--api-port', String(port),
          '--store', `etcd://127.0.0.1:${clientPort}`, '--node-name', `node-${i}`,
        ], { ...process.env, CERTPLANE_ADMIN_EMAIL: ADMIN.email, CERTPLANE_ADMIN_PASSWORD: ADMIN.password, CERTPLANE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' }),
      );
    }
    await Promise.all(
      nodes.map((node, i) =>
        waitFor(children[i + 1]!, async () => (await request(node, 'GET', '/v1/bootstrap')).text.includes('"completed"')),
      ),
    );
    const certificates = await Promise.all(Array.from({ length: rotations + 1 }, (_, i) => newCertificate(i)));
    // Warm-up rotation (first PUT pays for JIT and connection setup), not counted.
    const put = (node: NodeEndpoint, cert: { certificate: string; key: string }) =>
      request(node, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: cert.certificate, key: cert.key }] });
    const warm = await put(nodes[0]!, certificates[rotations]!);
    if (warm.status !== 200) throw new Error(`warm-up PUT answered ${warm.status}: ${warm.text}`);

    process.stdout.write(`rotation: ${nodeCount} nodes on 127.0.0.1-${nodeCount}, etcd 127.0.0.1:${clientPort}, ${rotations} rotations of the api certificate\n`);
    const load = backgroundLoad(nodes);
    const putMs: number[] = [];
    const allPresentMs: number[] = [];
    for (let r = 0; r < rotations; r++) {
      const cert = certificates[r]!;
      const target = nodes[r % nodes.length]!;
      const started = performance.now();
      const probes = nodes.map(async (node) => {
        for (;;) {
          const fingerprint = await presentedFingerprint(node).catch(() => '');
          if (fingerprint === cert.fingerprint) return performance.now() - started;
          if (performance.now() - started > 30_000) throw new Error(`node ${node.address} never presented rotation ${r}`);
          await new Promise((resolve) => setTimeout(resolve, probeIntervalMs));
        }
      });
      const response = await put(target, cert);
      const putDone = performance.now() - started;
      if (response.status !== 200) throw new Error(`rotation ${r}: PUT answered ${response.status}: ${response.text}`);
      const seen = await Promise.all(probes);
      putMs.push(putDone);
      allPresentMs.push(Math.max(...seen));
    }
    const served = await load.stop();
    const sortedPut = [...putMs].sort((a, b) => a - b);
    const sortedAll = [...allPresentMs].sort((a, b) => a - b);
    const fmt = (n: number): string => `${n.toFixed(1)} ms`;
    process.stdout.write(
      [
        `PUT -> 200 (every node confirmed)          p50 ${fmt(percentile(sortedPut, 50))}  p99 ${fmt(percentile(sortedPut, 99))}  max ${fmt(sortedPut.at(-1)!)}`,
        `PUT -> new cert on every node (handshake)  p50 ${fmt(percentile(sortedAll, 50))}  p99 ${fmt(percentile(sortedAll, 99))}  max ${fmt(sortedAll.at(-1)!)}`,
        `cluster kept serving: ${served.ok} GET /v1/cluster/certificates answered 200 during the runs, ${served.errors} failed`,
      ].join('\n') + '\n',
    );
    if (served.errors > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`rotation benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
