// Database proxy benchmark, one command: `npm run bench:proxy` (builds, then runs dist/bench/proxy.js).
//
// Starts a certplane node in a temporary data dir with the bench's own PKI (an ECDSA P-256 `proxy` certificate
// to start with), one TLS database without client certificates and one with (mutual TLS), and HAProxy 2.6
// terminating TLS in front of the same redis-servers (their Unix sockets) with the same certificates and keys.
//
// 1. Throughput: `redis-benchmark --tls` (SET and GET, 50 clients, with and without -P 16, bounded -n) against
//      (a) the database's redis-server on its own TLS port (CONFIG SET tls-port, same certificate),
//      (b) HAProxy, (c) certplane's proxy (the database endpoint),
//    in interleaved rounds; medians of ops/s, p50/p99 latency and CPU time per request of the TLS-terminating
//    side: (a) redis-server, (b) HAProxy's process, (c) the certplane node and every process it started
//    (a data plane in its own processes included; the redis-servers are left out), from /proc.
// 2. Handshakes: full TLS handshakes per second against certplane and HAProxy, ECDSA P-256 and RSA-2048 server
//    keys (the `proxy` certificate is replaced through the REST API between the two), without and with client
//    certificates, and with session resumption; worker threads of this process do tls.connect in a loop
//    (handshakes.ts), interleaved rounds, medians of rate and of the server's CPU per handshake.
// Then the ratios certplane/HAProxy against the targets of issue 12 item 3, and the load average.
// Everything listens on 127.0.0.1; every process started is stopped at the end (by PID).
//
// Flags (or environment): --rounds N (BENCH_REPEATS, 5), --requests N (BENCH_REQUESTS, 60000; x4 with -P 16),
// --handshake-rounds N (BENCH_HANDSHAKE_ROUNDS, 3), --handshake-ms N (BENCH_HANDSHAKE_MS, 3000 per
// measurement after 500 ms warm-up), --workers N (BENCH_HANDSHAKE_WORKERS, 2), --concurrency N
// (BENCH_HANDSHAKE_CONCURRENCY, 8 connections in flight per worker), --groups G (BENCH_HANDSHAKE_GROUPS,
// X25519: the client offers only the group both servers have, so both do the same key exchange),
// --cases full,mtls,resume,resume12 (BENCH_HANDSHAKE_CASES; default the first three), --only ops|handshakes.
// `npm run bench:proxy -- --rounds 3 --handshake-rounds 2`.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stopChildrenOnSignal, type Child } from './support.js';
import { createBenchPki, type IssuedCertificate } from './bench-pki.js';
import { adminCommand, createDatabase, expectPong, freeDbPort, installProxyCertificate, intOption, matchDataPlanePriority, median, startHaproxy, startNode, targetLine, tlsArgs, type CertplaneNode } from './fixture.js';
import { measureHandshakes, type HandshakeSample } from './handshakes.js';
import { loadAverage, treeCpuMicros } from './proc-tree.js';
import { redisBenchmark } from './redis-benchmark.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string' },
    requests: { type: 'string' },
    'handshake-rounds': { type: 'string' },
    'handshake-ms': { type: 'string' },
    workers: { type: 'string' },
    concurrency: { type: 'string' },
    groups: { type: 'string' },
    cases: { type: 'string' },
    only: { type: 'string' },
  },
  strict: true,
});
const REPEATS = intOption(flags.rounds, 'BENCH_REPEATS', 5);
const REQUESTS = intOption(flags.requests, 'BENCH_REQUESTS', 60_000);
const HS_ROUNDS = intOption(flags['handshake-rounds'], 'BENCH_HANDSHAKE_ROUNDS', 3);
const HS_MS = intOption(flags['handshake-ms'], 'BENCH_HANDSHAKE_MS', 3000, 200);
const HS_WORKERS = intOption(flags.workers, 'BENCH_HANDSHAKE_WORKERS', 2);
const HS_CONCURRENCY = intOption(flags.concurrency, 'BENCH_HANDSHAKE_CONCURRENCY', 8);
const HS_GROUPS = flags.groups ?? process.env.BENCH_HANDSHAKE_GROUPS ?? 'X25519';
const HS_CASES = (flags.cases ?? process.env.BENCH_HANDSHAKE_CASES ?? 'full,mtls,resume').split(',').map((c) => c.trim());
const ONLY = flags.only ?? 'all';
const CLIENTS = 50;
for (const c of HS_CASES) if (!['full', 'mtls', 'resume', 'resume12'].includes(c)) throw new Error(`unknown handshake case ${c}`);
if (!['all', 'ops', 'handshakes'].includes(ONLY)) throw new Error('--only takes ops or handshakes');

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** CPU microseconds the TLS-terminating side spent per request (SET and GET of one run together). */
  cpuUs: number;
}

const children: Child[] = [];
stopChildrenOnSignal(children);
const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

interface OpsTarget {
  name: string;
  port: number;
  pid: number;
  args: string[];
}

/** One redis-benchmark run (SET and GET), with the CPU the target used per request. */
async function opsRun(target: OpsTarget, pipeline: number): Promise<Record<string, Sample>> {
  const n = pipeline > 1 ? REQUESTS * 4 : REQUESTS;
  const cpuBefore = await treeCpuMicros(target.pid);
  const results = await redisBenchmark({ port: target.port, args: target.args, clients: CLIENTS, requests: n, pipeline, tests: 'set,get' });
  const cpuUs = ((await treeCpuMicros(target.pid)) - cpuBefore) / (2 * n);
  return Object.fromEntries(Object.entries(results).map(([test, r]) => [test, { rps: r.rps, p50: r.p50, p99: r.p99, cpuUs }]));
}

async function opsSection(targets: Record<'a' | 'b' | 'c', OpsTarget>, summary: string[]): Promise<void> {
  out(`throughput: redis-benchmark --tls, ${CLIENTS} clients, SET+GET, n=${REQUESTS} (x4 with -P 16), median of ${REPEATS} interleaved rounds`);
  out('cpu = CPU time per request of (a) redis-server, (b) haproxy, (c) the certplane node and its descendants (redis-servers excluded)');
  for (const target of Object.values(targets)) await opsRun(target, 1).catch(() => undefined); // warm-up
  const rows: string[] = [];
  const ratios: string[] = [];
  for (const pipeline of [1, 16]) {
    const samples: Record<string, Record<string, Sample[]>> = { a: {}, b: {}, c: {} };
    const ids = Object.keys(targets) as ('a' | 'b' | 'c')[];
    for (let rep = 0; rep < REPEATS; rep++) {
      // Rotate who goes first, so no target always runs right after the same one.
      for (const id of [...ids.slice(rep % 3), ...ids.slice(0, rep % 3)]) {
        const result = await opsRun(targets[id], pipeline);
        for (const [test, sample] of Object.entries(result)) ((samples[id] as Record<string, Sample[]>)[test] ??= []).push(sample);
      }
    }
    for (const test of ['SET', 'GET']) {
      const med = (id: string): Sample => {
        const list = samples[id]?.[test] ?? [];
        return { rps: median(list.map((s) => s.rps)), p50: median(list.map((s) => s.p50)), p99: median(list.map((s) => s.p99)), cpuUs: median(list.map((s) => s.cpuUs)) };
      };
      const [a, b, c] = [med('a'), med('b'), med('c')];
      for (const [id, s] of [['a', a], ['b', b], ['c', c]] as const) {
        rows.push(`${test.padEnd(4)} ${`-P ${pipeline}`.padEnd(6)} (${id}) ${targets[id].name.padEnd(17)} ${s.rps.toFixed(0).padStart(9)} ops/s   p50 ${s.p50.toFixed(3).padStart(7)} ms   p99 ${s.p99.toFixed(3).padStart(7)} ms   cpu ${s.cpuUs.toFixed(2).padStart(6)} us/op`);
      }
      ratios.push(
        `${test.padEnd(4)} ${`-P ${pipeline}`.padEnd(6)} c/a ${(c.rps / a.rps).toFixed(2)}   c/b ${(c.rps / b.rps).toFixed(2)}   p99 c/b ${(c.p99 / b.p99).toFixed(2)}   p99 b/a ${(b.p99 / a.p99).toFixed(2)}   cpu/op c/b ${(c.cpuUs / b.cpuUs).toFixed(2)}`,
      );
      summary.push(
        targetLine(`ops/s ${test} -P ${pipeline} certplane/HAProxy`, c.rps / b.rps, '>=', 1.0),
        targetLine(`p99 ${test} -P ${pipeline} certplane/HAProxy`, c.p99 / b.p99, '<=', 1.5),
        targetLine(`CPU/request ${test} -P ${pipeline} certplane/HAProxy`, c.cpuUs / b.cpuUs, '<=', 1.2),
      );
    }
  }
  out(rows.join('\n'));
  out();
  out('ratios (ops/s; p99 and cpu lower is better)');
  out(ratios.join('\n'));
  out(`load average after throughput: ${await loadAverage()}`);
  out();
}

interface HandshakeEndpoints {
  certplane: { plain: number; mtls: number; pid: number };
  haproxy: Record<'ecdsa-p256' | 'rsa-2048', { plain: number; mtls: number }> & { pid: number };
}

async function handshakeSection(node: CertplaneNode, servers: Record<'ecdsa-p256' | 'rsa-2048', IssuedCertificate>, client: IssuedCertificate, endpoints: HandshakeEndpoints, summary: string[]): Promise<void> {
  out(
    `handshakes: ${HS_WORKERS} worker threads x ${HS_CONCURRENCY} connections in flight, tls.connect + clean close in a loop, client groups ${HS_GROUPS}, ` +
      `${HS_MS} ms per measurement after 500 ms warm-up, median of ${HS_ROUNDS} interleaved rounds`,
  );
  out('cases: full = TLS 1.3 full handshake; mtls = full handshake with a client certificate (ECDSA P-256, verified by the server);');
  out('       resume = TLS 1.3 resumption with the last ticket; resume12 = TLS 1.2 resumption (session ID or ticket)');
  out('srv cpu = server CPU per handshake (certplane: node + descendants; HAProxy: its process); gen cpu = this generator\'s CPU per handshake');
  const clientPem = { cert: client.certificate, key: client.key };
  const rows: string[] = [];
  for (const kind of ['ecdsa-p256', 'rsa-2048'] as const) {
    await installProxyCertificate(node, servers[kind], endpoints.certplane.plain);
    const samples: Record<string, Record<'certplane' | 'haproxy', HandshakeSample[]>> = {};
    for (let round = 0; round < HS_ROUNDS; round++) {
      for (const hsCase of HS_CASES) {
        const order = round % 2 === 0 ? (['certplane', 'haproxy'] as const) : (['haproxy', 'certplane'] as const);
        for (const who of order) {
          const ports = who === 'certplane' ? endpoints.certplane : endpoints.haproxy[kind];
          const sample = await measureHandshakes({
            port: hsCase === 'mtls' ? ports.mtls : ports.plain,
            serverPid: who === 'certplane' ? endpoints.certplane.pid : endpoints.haproxy.pid,
            mode: hsCase.startsWith('resume') ? 'resume' : 'full',
            ...(hsCase === 'mtls' ? { client: clientPem } : {}),
            groups: HS_GROUPS,
            maxVersion: hsCase === 'resume12' ? 'TLSv1.2' : 'TLSv1.3',
            workers: HS_WORKERS,
            concurrency: HS_CONCURRENCY,
            warmupMs: 500,
            durationMs: HS_MS,
          });
          if (sample.errors > 0) out(`  note: ${who} ${kind} ${hsCase}: ${sample.errors} connection errors (first: ${sample.firstError})`);
          (samples[hsCase] ??= { certplane: [], haproxy: [] })[who].push(sample);
        }
      }
    }
    for (const hsCase of HS_CASES) {
      const med = (who: 'certplane' | 'haproxy'): HandshakeSample => {
        const list = samples[hsCase]?.[who] ?? [];
        return {
          rate: median(list.map((s) => s.rate)),
          resumedShare: median(list.map((s) => s.resumedShare)),
          p50: median(list.map((s) => s.p50)),
          p99: median(list.map((s) => s.p99)),
          serverCpuUs: median(list.map((s) => s.serverCpuUs)),
          clientCpuUs: median(list.map((s) => s.clientCpuUs)),
          errors: list.reduce((n, s) => n + s.errors, 0),
        };
      };
      const [c, h] = [med('certplane'), med('haproxy')];
      for (const [who, s] of [['certplane', c], ['HAProxy', h]] as const) {
        rows.push(
          `${kind.padEnd(10)} ${hsCase.padEnd(8)} ${who.padEnd(9)} ${s.rate.toFixed(0).padStart(6)} hs/s   resumed ${(s.resumedShare * 100).toFixed(0).padStart(3)}%   ` +
            `p50 ${s.p50.toFixed(2).padStart(6)} ms   p99 ${s.p99.toFixed(2).padStart(6)} ms   srv cpu ${s.serverCpuUs.toFixed(0).padStart(5)} us   gen cpu ${s.clientCpuUs.toFixed(0).padStart(5)} us   errors ${s.errors}`,
        );
      }
      summary.push(
        targetLine(`handshakes/s ${kind} ${hsCase} certplane/HAProxy`, c.rate / h.rate, '>=', 1.0),
        `${`  (server CPU per handshake certplane/HAProxy ${kind} ${hsCase})`.padEnd(44)} ${(c.serverCpuUs / h.serverCpuUs).toFixed(2).padStart(6)}x`,
      );
    }
    out(`load average after ${kind} handshakes: ${await loadAverage()}`);
  }
  out(rows.join('\n'));
  out();
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-bench-'));
  try {
    const loadBefore = await loadAverage();
    const pki = await createBenchPki(dir);
    const servers = { 'ecdsa-p256': await pki.issue('server-ecdsa', 'ecdsa-p256', 'server'), 'rsa-2048': await pki.issue('server-rsa', 'rsa-2048', 'server') } as const;
    const client = await pki.issue('bench-client', 'ecdsa-p256', 'client');

    const node = await startNode(dir);
    children.push(node.child);
    const db = await createDatabase(node, 'bench');
    const mtlsDb = await createDatabase(node, 'bench-mtls', { enforce_client_authentication: 'enabled', authentication_ssl_client_certs: [{ client_cert: pki.ca }] });
    await installProxyCertificate(node, servers['ecdsa-p256'], db.port);

    // (a) redis-server's own TLS port, same certificate.
    const nativePort = await freeDbPort();
    await adminCommand(db, ['CONFIG', 'SET', 'tls-cert-file', servers['ecdsa-p256'].certFile, 'tls-key-file', servers['ecdsa-p256'].keyFile, 'tls-auth-clients', 'no', 'tls-port', String(nativePort)]);
    await adminCommand(db, ['CONFIG', 'SET', 'save', '']);

    // (b) HAProxy with the same certificates and keys, in front of the same redis-servers.
    const hp = { ecdsa: await freeDbPort(), ecdsaMtls: await freeDbPort(), rsa: await freeDbPort(), rsaMtls: await freeDbPort() };
    const haproxy = await startHaproxy(dir, [
      { port: hp.ecdsa, pem: servers['ecdsa-p256'].pemFile, backendSocket: db.socket },
      { port: hp.ecdsaMtls, pem: servers['ecdsa-p256'].pemFile, clientCa: pki.caFile, backendSocket: mtlsDb.socket },
      { port: hp.rsa, pem: servers['rsa-2048'].pemFile, backendSocket: db.socket },
      { port: hp.rsaMtls, pem: servers['rsa-2048'].pemFile, clientCa: pki.caFile, backendSocket: mtlsDb.socket },
    ]);
    children.push(haproxy);
    const haproxyPid = haproxy.process.pid as number;

    const tlsCa = tlsArgs(pki.caFile);
    const tlsClient = tlsArgs(pki.caFile, { cert: client.certFile, key: client.keyFile });
    await expectPong('redis-server TLS', nativePort, [...tlsCa, ...db.directAuth]);
    await expectPong('HAProxy', hp.ecdsa, [...tlsCa, ...db.directAuth]);
    await expectPong('HAProxy mTLS', hp.ecdsaMtls, [...tlsClient, ...mtlsDb.directAuth]);
    await expectPong('certplane proxy', db.port, tlsCa);
    await expectPong('certplane proxy mTLS', mtlsDb.port, tlsClient);

    out(`bench:proxy  ${new Date().toISOString()}  ${os.cpus().length} cores shared with the load generators, redis-servers and everything else on the machine`);
    out(`load average before: ${loadBefore}`);
    out(await matchDataPlanePriority(node.pid, haproxyPid));
    out();
    const summary: string[] = [];
    if (ONLY !== 'handshakes') {
      await opsSection(
        {
          a: { name: 'redis-server TLS', port: nativePort, pid: db.redisPid, args: [...tlsCa, ...db.directAuth] },
          b: { name: 'HAProxy 2.6 TLS', port: hp.ecdsa, pid: haproxyPid, args: [...tlsCa, ...db.directAuth] },
          c: { name: 'certplane proxy', port: db.port, pid: node.pid, args: tlsCa },
        },
        summary,
      );
    }
    if (ONLY !== 'ops') {
      await handshakeSection(
        node,
        servers,
        client,
        {
          certplane: { plain: db.port, mtls: mtlsDb.port, pid: node.pid },
          haproxy: { 'ecdsa-p256': { plain: hp.ecdsa, mtls: hp.ecdsaMtls }, 'rsa-2048': { plain: hp.rsa, mtls: hp.rsaMtls }, pid: haproxyPid },
        },
        summary,
      );
    }
    out('certplane vs HAProxy, medians (issue 12 item 3 targets)');
    out(summary.join('\n'));
    out(`load average at the end: ${await loadAverage()} (before: ${loadBefore})`);
  } finally {
    for (const child of children.reverse()) await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:proxy failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
  void Promise.all(children.map((child) => child.stop()));
});
