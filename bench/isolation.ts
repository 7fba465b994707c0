// Isolation benchmark, one command: `npm run bench:isolation` (builds, then runs dist/bench/isolation.js).
//
// 1. The table of issue 12: `redis-benchmark --tls -c 20 -t get` (ops/s, p99, max latency) against
//      (a) the database's redis-server on its own TLS port (a separate process),
//      (b) HAProxy 2.6 terminating TLS in front of the same redis-server,
//      (c) certplane's proxy (the database endpoint),
//    each alone and "while the API is busy": 20 keep-alive clients GET /v1/cluster/certificates on the
//    node's REST API and one client PUTs a certificate with a 4096-bit RSA key in a loop (api-load.ts; two
//    such certificates made once up front, alternated). Interleaved rounds, medians (and the worst max).
//    Ratios: certplane under load vs HAProxy under the same load (targets: ops/s >= 0.9x, max no worse).
// 2. Memory (issue 12 item 5): resident memory per 1 000 idle TLS client connections (handshake done, logged
//    in, one PING) of certplane (the node and its descendants, redis-servers excluded) and HAProxy (target
//    <= 2x), then up to 10 000 idle connections on one endpoint of certplane and redis-benchmark on a second
//    endpoint without (before and after) and with them (they must not slow it). Opening stops short of an
//    open-file limit and says so (a proxied connection holds 2 files: client and backend).
// Everything listens on 127.0.0.1; every process started is stopped at the end (by PID).
//
// Flags (or environment): --rounds N (BENCH_ISOLATION_ROUNDS, 3), --requests N (BENCH_ISOLATION_REQUESTS,
// 40000 GETs per redis-benchmark run), --only table|memory, --connections N (BENCH_MEMORY_CONNECTIONS, 2000
// idle connections for the per-1 000 figure), --idle N (BENCH_IDLE_CONNECTIONS, 10000), --put-certificate NAME
// (BENCH_PUT_CERTIFICATE, syncer). `npm run bench:memory` is `--only memory`.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stopChildrenOnSignal, type Child } from './support.js';
import { startApiLoad, type ApiLoadStats } from './api-load.js';
import { createBenchPki } from './bench-pki.js';
import { adminCommand, createDatabase, expectPong, freeDbPort, installProxyCertificate, intOption, matchDataPlanePriority, median, startHaproxy, startNode, targetLine, tlsArgs, type CertplaneNode, type Database } from './fixture.js';
import { openFileLimit, openIdleConnections, processesFor, type IdleTarget } from './idle-connections.js';
import { loadAverage, treeRssBytes } from './proc-tree.js';
import { redisBenchmark, type RedisBenchmarkResult } from './redis-benchmark.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string' },
    requests: { type: 'string' },
    only: { type: 'string' },
    connections: { type: 'string' },
    idle: { type: 'string' },
    'put-certificate': { type: 'string' },
  },
  strict: true,
});
const ROUNDS = intOption(flags.rounds, 'BENCH_ISOLATION_ROUNDS', 3);
const REQUESTS = intOption(flags.requests, 'BENCH_ISOLATION_REQUESTS', 40_000);
const MEMORY_CONNECTIONS = intOption(flags.connections, 'BENCH_MEMORY_CONNECTIONS', 2000);
const IDLE_CONNECTIONS = intOption(flags.idle, 'BENCH_IDLE_CONNECTIONS', 10_000);
const PUT_CERTIFICATE = flags['put-certificate'] ?? process.env.BENCH_PUT_CERTIFICATE ?? 'syncer';
const ONLY = flags.only ?? 'all';
if (!['all', 'table', 'memory'].includes(ONLY)) throw new Error('--only takes table or memory');
const CLIENTS = 20;
const API_GETTERS = 20;

const children: Child[] = [];
stopChildrenOnSignal(children);
const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
const fmtOps = (n: number): string => `${(n / 1000).toFixed(1)}k`;
const fmtMs = (n: number): string => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`;

interface Target {
  name: string;
  port: number;
  args: string[];
}

function getRun(target: Target): Promise<RedisBenchmarkResult> {
  return redisBenchmark({ port: target.port, args: target.args, clients: CLIENTS, requests: REQUESTS, tests: 'get' }).then((r) => {
    const get = r.GET;
    if (get === undefined) throw new Error(`redis-benchmark printed no GET result for ${target.name}`);
    return get;
  });
}

async function tableSection(node: CertplaneNode, targets: Record<'a' | 'b' | 'c', Target>, putCertificates: { certificate: string; key: string }[], summary: string[]): Promise<void> {
  out(`isolation: redis-benchmark --tls -c ${CLIENTS} -t get -n ${REQUESTS}, alone and while the API is busy (${API_GETTERS} keep-alive GET /v1/cluster/certificates + 1 PUT ${PUT_CERTIFICATE} with RSA-4096 keys in a loop), ${ROUNDS} interleaved rounds`);
  for (const target of Object.values(targets)) await getRun(target); // warm-up
  const ids = ['a', 'b', 'c'] as const;
  const alone: Record<string, RedisBenchmarkResult[]> = { a: [], b: [], c: [] };
  const busy: Record<string, RedisBenchmarkResult[]> = { a: [], b: [], c: [] };
  const loads: Record<string, ApiLoadStats[]> = { a: [], b: [], c: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...ids.slice(round % 3), ...ids.slice(0, round % 3)];
    for (const id of order) (alone[id] as RedisBenchmarkResult[]).push(await getRun(targets[id]));
    for (const id of order) {
      // A fresh load per measurement, one second ahead of it, so each target meets the same API load.
      const load = startApiLoad(node, { getters: API_GETTERS, certificates: putCertificates, certificateName: PUT_CERTIFICATE });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let result: RedisBenchmarkResult;
      try {
        result = await getRun(targets[id]);
      } finally {
        const stats = await load.stop();
        (loads[id] as ApiLoadStats[]).push(stats);
        if (stats.errors > 0) out(`  note: API load during ${targets[id].name}: ${stats.errors} failed requests (first: ${stats.firstError})`);
      }
      (busy[id] as RedisBenchmarkResult[]).push(result);
    }
    out(`  round ${round + 1}/${ROUNDS} done, load average ${await loadAverage()}`);
  }
  const med = (list: RedisBenchmarkResult[]): RedisBenchmarkResult & { worstMax: number } => ({
    rps: median(list.map((r) => r.rps)),
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    max: median(list.map((r) => r.max)),
    worstMax: Math.max(...list.map((r) => r.max)),
  });
  out();
  out('| path | alone: ops/s, p99, max (worst) | while the API is busy: ops/s, p99, max (worst) | API load meanwhile: GET/s, PUT/s |');
  out('|---|---|---|---|');
  const m: Record<string, { alone: ReturnType<typeof med>; busy: ReturnType<typeof med> }> = {};
  for (const id of ids) {
    const [a, b] = [med(alone[id] as RedisBenchmarkResult[]), med(busy[id] as RedisBenchmarkResult[])];
    m[id] = { alone: a, busy: b };
    const l = loads[id] as ApiLoadStats[];
    const getRate = median(l.map((s) => s.gets / s.seconds));
    const putRate = median(l.map((s) => s.puts / s.seconds));
    out(
      `| (${id}) ${targets[id].name} | ${fmtOps(a.rps)}, ${fmtMs(a.p99)}, ${fmtMs(a.max)} (${fmtMs(a.worstMax)}) | ${fmtOps(b.rps)}, ${fmtMs(b.p99)}, ${fmtMs(b.max)} (${fmtMs(b.worstMax)}) | ${getRate.toFixed(0)}, ${putRate.toFixed(2)} |`,
    );
  }
  const { a, b, c } = m as Record<'a' | 'b' | 'c', { alone: ReturnType<typeof med>; busy: ReturnType<typeof med> }>;
  out();
  out('busy/alone ops/s: ' + ids.map((id) => `(${id}) ${((m[id]?.busy.rps ?? NaN) / (m[id]?.alone.rps ?? NaN)).toFixed(2)}`).join('   '));
  out(`certplane/HAProxy alone: ops/s ${(c.alone.rps / b.alone.rps).toFixed(2)}x   p99 ${(c.alone.p99 / b.alone.p99).toFixed(2)}x   max ${(c.alone.max / b.alone.max).toFixed(2)}x`);
  out(`certplane/redis TLS busy: ops/s ${(c.busy.rps / a.busy.rps).toFixed(2)}x   p99 ${(c.busy.p99 / a.busy.p99).toFixed(2)}x   max ${(c.busy.max / a.busy.max).toFixed(2)}x`);
  out(`load average after the table: ${await loadAverage()}`);
  out();
  summary.push(
    targetLine('busy: ops/s certplane/HAProxy', c.busy.rps / b.busy.rps, '>=', 0.9),
    targetLine('busy: max latency certplane/HAProxy (median)', c.busy.max / b.busy.max, '<=', 1.0),
    targetLine('busy: max latency certplane/HAProxy (worst)', c.busy.worstMax / b.busy.worstMax, '<=', 1.0),
    `${'busy: p99 certplane/HAProxy'.padEnd(44)} ${(c.busy.p99 / b.busy.p99).toFixed(2).padStart(6)}x`,
  );
}

const MB = 1024 * 1024;

/** RSS of the tree, read a few times after things settle; the last reading. */
async function settledRss(pid: number): Promise<number> {
  let rss = 0;
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    rss = await treeRssBytes(pid);
  }
  return rss;
}

async function memoryPer1000(name: string, target: IdleTarget): Promise<number> {
  const before = await settledRss(target.pid);
  const idle = await openIdleConnections(target, MEMORY_CONNECTIONS);
  try {
    const after = await settledRss(target.pid);
    const open = idle.open();
    const per1000 = open === 0 ? NaN : ((after - before) / open) * 1000;
    out(
      `${name.padEnd(10)} ${String(open).padStart(6)} idle connections: RSS ${(before / MB).toFixed(1)} -> ${(after / MB).toFixed(1)} MB, ` +
        `${(per1000 / MB).toFixed(2)} MB per 1 000${idle.errors > 0 ? `   (${idle.errors} failed, first: ${idle.firstError})` : ''}${idle.shortBecause === undefined ? '' : `   SHORT: ${idle.shortBecause}`}`,
    );
    return per1000;
  } finally {
    await idle.close();
  }
}

/** The certplane node, database and second endpoint of the idle-connection test. */
interface IdleSetup {
  node: CertplaneNode;
  db: Database;
  other: Database;
  processes: number;
}

async function memorySection(node: CertplaneNode, db: Database, haproxy: { pid: number; port: number }, summary: string[]): Promise<void> {
  out(`memory: resident memory (RSS; certplane = node + descendants, redis-servers excluded) per 1 000 idle TLS connections, ${MEMORY_CONNECTIONS} opened (handshake, login, one PING, then idle)`);
  const certplane = await memoryPer1000('certplane', { port: db.port, pid: node.pid, greeting: 'PING\r\n' });
  const password = db.directAuth[db.directAuth.indexOf('-a') + 1] ?? '';
  const haproxyPer1000 = await memoryPer1000('HAProxy', { port: haproxy.port, pid: haproxy.pid, greeting: `AUTH default ${password}\r\nPING\r\n` });
  summary.push(targetLine('memory per 1 000 idle certplane/HAProxy', certplane / haproxyPer1000, '<=', 2.0));

  out();
}

async function idleSection({ node, db, other, processes }: IdleSetup, ca: string, summary: string[]): Promise<void> {
  const otherTarget: Target = { name: 'second endpoint', port: other.port, args: tlsArgs(ca) };
  out(`idle connections: up to ${IDLE_CONNECTIONS} idle on one certplane endpoint (${processes} data-plane process${processes === 1 ? '' : 'es'}); redis-benchmark -c ${CLIENTS} -t get -n ${REQUESTS} on a second endpoint without them (${ROUNDS} runs before, ${ROUNDS} after) and with them (${ROUNDS} runs)`);
  const without: RedisBenchmarkResult[] = [];
  const withIdle: RedisBenchmarkResult[] = [];
  await getRun(otherTarget); // warm-up
  for (let i = 0; i < ROUNDS; i++) without.push(await getRun(otherTarget));
  const rssBefore = await settledRss(node.pid);
  const began = performance.now();
  const idle = await openIdleConnections({ port: db.port, pid: node.pid, greeting: 'PING\r\n' }, IDLE_CONNECTIONS);
  try {
    const openSeconds = (performance.now() - began) / 1000;
    const rssAfter = await settledRss(node.pid);
    const open = idle.open();
    out(
      `opened ${open} of ${IDLE_CONNECTIONS} in ${openSeconds.toFixed(1)} s${idle.shortBecause === undefined ? '' : ` (SHORT: ${idle.shortBecause})`}${idle.errors > 0 ? `, ${idle.errors} failed (first: ${idle.firstError})` : ''}; ` +
        `certplane RSS ${(rssBefore / MB).toFixed(1)} -> ${(rssAfter / MB).toFixed(1)} MB (${((((rssAfter - rssBefore) / Math.max(open, 1)) * 1000) / MB).toFixed(2)} MB per 1 000)`,
    );
    for (let i = 0; i < ROUNDS; i++) withIdle.push(await getRun(otherTarget));
    const stillOpen = idle.open();
    if (stillOpen !== open) out(`  note: ${open - stillOpen} idle connections were closed by the server meanwhile`);
    await expectPong('an idle connection\'s endpoint', db.port, tlsArgs(ca));
  } finally {
    await idle.close();
  }
  // And again once they are closed, so a machine getting busier or quieter meanwhile shows as spread, not as effect.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  for (let i = 0; i < ROUNDS; i++) without.push(await getRun(otherTarget));
  const [w, x] = [without, withIdle].map((list) => ({ rps: median(list.map((r) => r.rps)), p99: median(list.map((r) => r.p99)), max: median(list.map((r) => r.max)) })) as [
    { rps: number; p99: number; max: number },
    { rps: number; p99: number; max: number },
  ];
  out(`second endpoint without (before+after): ${fmtOps(w.rps)} ops/s, p99 ${fmtMs(w.p99)}, max ${fmtMs(w.max)}   with ${idle.sockets.length} idle: ${fmtOps(x.rps)} ops/s, p99 ${fmtMs(x.p99)}, max ${fmtMs(x.max)}`);
  const list = (runs: RedisBenchmarkResult[]): string => runs.map((r) => fmtOps(r.rps)).join(' ');
  out(`  each run, ops/s: without before ${list(without.slice(0, ROUNDS))} | with ${list(withIdle)} | without after ${list(without.slice(ROUNDS))}`);
  out(`load average after memory: ${await loadAverage()}`);
  out();
  summary.push(
    targetLine(`second endpoint ops/s with/without ${idle.sockets.length} idle`, x.rps / w.rps, '>=', 0.9),
    `${`second endpoint p99 with/without idle`.padEnd(44)} ${(x.p99 / w.p99).toFixed(2).padStart(6)}x`,
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-bench-'));
  try {
    const loadBefore = await loadAverage();
    const pki = await createBenchPki(dir);
    const server = await pki.issue('server-ecdsa', 'ecdsa-p256', 'server');
    // The API load's certificates: 4096-bit RSA keys, made once here, not during the measurement.
    const putCertificates = ONLY === 'memory' ? [] : await Promise.all([pki.issue('put-a', 'rsa-4096', 'server'), pki.issue('put-b', 'rsa-4096', 'server')]);

    // Endpoint limit above the idle-connection count, so the 10 000 test meets no limit of certplane's own.
    const node = await startNode(dir, ['--db-max-connections', String(Math.max(10_000, IDLE_CONNECTIONS) + 1000)]);
    children.push(node.child);
    const db = await createDatabase(node, 'isolation');
    const other = await createDatabase(node, 'isolation-other');
    await installProxyCertificate(node, server, db.port);

    const nativePort = await freeDbPort();
    await adminCommand(db, ['CONFIG', 'SET', 'tls-cert-file', server.certFile, 'tls-key-file', server.keyFile, 'tls-auth-clients', 'no', 'tls-port', String(nativePort)]);
    const haproxyPort = await freeDbPort();
    const haproxy = await startHaproxy(dir, [{ port: haproxyPort, pem: server.pemFile, backendSocket: db.socket }]);
    children.push(haproxy);

    const ca = tlsArgs(pki.caFile);
    const targets = {
      a: { name: 'redis-server TLS', port: nativePort, args: [...ca, ...db.directAuth] },
      b: { name: 'HAProxy 2.6', port: haproxyPort, args: [...ca, ...db.directAuth] },
      c: { name: 'certplane proxy', port: db.port, args: ca },
    };
    for (const t of Object.values(targets)) await expectPong(t.name, t.port, t.args);
    await expectPong('second endpoint', other.port, ca);

    out(`bench:isolation  ${new Date().toISOString()}  ${os.cpus().length} cores shared with the load generators, redis-servers and everything else on the machine`);
    out(`load average before: ${loadBefore}`);
    out(await matchDataPlanePriority(node.pid, haproxy.process.pid as number));
    out();
    const summary: string[] = [];
    if (ONLY !== 'memory') await tableSection(node, targets, putCertificates, summary);
    if (ONLY !== 'table') {
      await memorySection(node, db, { pid: haproxy.process.pid as number, port: haproxyPort }, summary);
      // One data-plane process holds two files per proxied connection: more idle connections than its open-file
      // limit allows go to a node with more processes (README "Data plane"), started once the other is stopped.
      const processes = processesFor(IDLE_CONNECTIONS, await openFileLimit());
      let idleSetup: IdleSetup = { node, db, other, processes: 1 };
      if (processes > 1) {
        await node.child.stop();
        const idleNode = await startNode(path.join(dir, 'idle'), ['--db-max-connections', String(IDLE_CONNECTIONS + 1000)], 'warn', { CERTPLANE_DATA_PLANE_PROCESSES: String(processes) });
        children.push(idleNode.child);
        const idleDb = await createDatabase(idleNode, 'isolation-idle');
        idleSetup = { node: idleNode, db: idleDb, other: await createDatabase(idleNode, 'isolation-idle-other'), processes };
        await installProxyCertificate(idleNode, server, idleDb.port);
        await expectPong('second endpoint', idleSetup.other.port, ca);
      }
      await idleSection(idleSetup, pki.caFile, summary);
    }
    out('certplane vs HAProxy (issue 12 items 4 and 5 targets)');
    out(summary.join('\n'));
    out(`load average at the end: ${await loadAverage()} (before: ${loadBefore})`);
  } finally {
    for (const child of children.reverse()) await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:isolation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
  void Promise.all(children.map((child) => child.stop()));
});
