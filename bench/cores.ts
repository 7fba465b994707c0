// Using both cores, two ways (issue 12 item 1: "worker threads or processes with SO_REUSEPORT; measure both"),
// one command: `npm run bench:cores` (builds, then runs dist/bench/cores.js).
//
// certplane's proxy code (src/proxy/database-proxy.ts, as the data plane runs it) serves one TLS endpoint in front
// of one redis-server's Unix socket, in three layouts started side by side on their own ports (bench/cores-proxy.ts):
//   (1) one process, one thread (the default data plane),
//   (2) one process, two worker threads listening on the port with SO_REUSEPORT,
//   (3) two processes listening on the port with SO_REUSEPORT (CERTPLANE_DATA_PLANE_PROCESSES=2).
// `redis-benchmark --tls` (SET and GET, 50 clients, with and without -P 16) against each, in interleaved rounds
// with the layout order rotated; medians of ops/s, p99 and CPU time per request (every process of the layout,
// all threads, from /proc), and each layout against (1). Then the resident memory of each layout at rest.
// Everything listens on 127.0.0.1; every process started is stopped at the end (by PID).
//
// Flags (or environment): --rounds N (BENCH_REPEATS, 3), --requests N (BENCH_REQUESTS, 60000; x4 with -P 16).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChild, stopChildrenOnSignal, waitFor, type Child } from './support.js';
import { createBenchPki } from './bench-pki.js';
import { expectPong, freeDbPort, intOption, median, run, tlsArgs } from './fixture.js';
import { loadAverage, treeCpuMicros, treeRssBytes } from './proc-tree.js';
import { redisBenchmark, type RedisBenchmarkResult } from './redis-benchmark.js';

const { values: flags } = parseArgs({ options: { rounds: { type: 'string' }, requests: { type: 'string' } } });
const ROUNDS = intOption(flags.rounds, 'BENCH_REPEATS', 3);
const REQUESTS = intOption(flags.requests, 'BENCH_REQUESTS', 60_000);
const CLIENTS = 50;
const PROXY = path.join(path.dirname(new URL(import.meta.url).pathname), 'cores-proxy.js');

interface Layout {
  name: string;
  processes: number;
  threads: number;
  port: number;
  children: Child[];
}

const children: Child[] = [];
stopChildrenOnSignal(children);
const out = (line = ''): void => void process.stdout.write(`${line}\n`);

async function startLayout(layout: Omit<Layout, 'port' | 'children'>, backendSocketPath: string, server: { certFile: string; keyFile: string }): Promise<Layout> {
  const port = await freeDbPort();
  const started: Child[] = [];
  for (let i = 0; i < layout.processes; i++) {
    const options = { port, backendSocketPath, certFile: server.certFile, keyFile: server.keyFile, threads: layout.threads, reusePort: layout.processes > 1 || layout.threads > 1 };
    const child = startChild(`proxy ${layout.name} #${i}`, process.execPath, [PROXY, JSON.stringify(options)]);
    children.push(child);
    started.push(child);
    await waitFor(layout.name, async () => child.output().includes('ready'), { child, timeoutMs: 30_000 });
  }
  return { ...layout, port, children: started };
}

async function cpuMicros(layout: Layout): Promise<number> {
  let total = 0;
  for (const child of layout.children) total += await treeCpuMicros(child.process.pid as number);
  return total;
}

const fmtOps = (n: number): string => `${(n / 1000).toFixed(1)}k`;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-bench-cores-'));
  try {
    const loadBefore = await loadAverage();
    const pki = await createBenchPki(dir);
    const server = await pki.issue('server-ecdsa', 'ecdsa-p256', 'server');
    const socket = path.join(dir, 'redis.sock');
    const redis = startChild('redis-server', 'redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--maxclients', '20000', '--dir', dir]);
    children.push(redis);
    await waitFor('redis-server', async () => (await run('redis-cli', ['-s', socket, 'PING']).catch(() => '')).includes('PONG'), { child: redis });

    const layouts = [
      await startLayout({ name: '1 process, 1 thread', processes: 1, threads: 1 }, socket, server),
      await startLayout({ name: '1 process, 2 worker threads', processes: 1, threads: 2 }, socket, server),
      await startLayout({ name: '2 processes', processes: 2, threads: 1 }, socket, server),
    ];
    const ca = tlsArgs(pki.caFile);
    for (const layout of layouts) await expectPong(layout.name, layout.port, ca);

    out(`bench:cores  ${new Date().toISOString()}  ${os.cpus().length} cores shared with redis-benchmark, redis-server and everything else on the machine`);
    out(`load average before: ${loadBefore}`);
    out(`redis-benchmark --tls, ${CLIENTS} clients, SET+GET, n=${REQUESTS} (x4 with -P 16), median of ${ROUNDS} interleaved rounds; cpu = CPU time per request of the layout's processes (all threads)`);
    const results = new Map<string, { set: RedisBenchmarkResult[]; get: RedisBenchmarkResult[]; cpu: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const pipeline of [1, 16]) {
        const requests = pipeline === 1 ? REQUESTS : REQUESTS * 4;
        const order = layouts.map((_, i) => layouts[(i + round) % layouts.length] as Layout);
        for (const layout of order) {
          const before = await cpuMicros(layout);
          const result = await redisBenchmark({ port: layout.port, args: ca, clients: CLIENTS, requests, pipeline, tests: 'set,get' });
          const used = (await cpuMicros(layout)) - before;
          const key = `${pipeline}|${layout.name}`;
          const entry = results.get(key) ?? { set: [], get: [], cpu: [] };
          entry.set.push(result.SET as RedisBenchmarkResult);
          entry.get.push(result.GET as RedisBenchmarkResult);
          entry.cpu.push(used / (2 * requests));
          results.set(key, entry);
        }
      }
      out(`  round ${round + 1}/${ROUNDS} done, load average ${await loadAverage()}`);
    }
    out();
    for (const pipeline of [1, 16]) {
      const base = results.get(`${pipeline}|${layouts[0]?.name}`);
      for (const layout of layouts) {
        const entry = results.get(`${pipeline}|${layout.name}`);
        if (entry === undefined || base === undefined) continue;
        const set = median(entry.set.map((r) => r.rps));
        const get = median(entry.get.map((r) => r.rps));
        const cpu = median(entry.cpu);
        const vs = `vs (1): ops/s SET ${(set / median(base.set.map((r) => r.rps))).toFixed(2)} GET ${(get / median(base.get.map((r) => r.rps))).toFixed(2)}, cpu/op ${(cpu / median(base.cpu)).toFixed(2)}`;
        out(
          `-P ${String(pipeline).padEnd(3)} ${layout.name.padEnd(28)} SET ${fmtOps(set).padStart(7)} ops/s p99 ${median(entry.set.map((r) => r.p99)).toFixed(2)} ms   GET ${fmtOps(get).padStart(7)} ops/s p99 ${median(entry.get.map((r) => r.p99)).toFixed(2)} ms   cpu ${cpu.toFixed(2)} us/op   ${vs}`,
        );
      }
    }
    out();
    for (const layout of layouts) {
      let rss = 0;
      for (const child of layout.children) rss += await treeRssBytes(child.process.pid as number);
      out(`resident memory at rest, ${layout.name}: ${(rss / 1024 / 1024).toFixed(1)} MB`);
    }
    out(`load average at the end: ${await loadAverage()} (before: ${loadBefore})`);
  } finally {
    for (const child of children.reverse()) await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:cores failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
  void Promise.all(children.map((child) => child.stop()));
});
