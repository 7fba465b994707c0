// Database proxy benchmark, one command: `npm run bench:proxy` (builds, then runs dist/bench/proxy.js).
//
// Starts a certplane node in a temporary data dir, creates one database with TLS (no client certificates, so
// the three paths do the same work), and measures `redis-benchmark --tls` (SET and GET, 50 clients, with
// and without -P 16, bounded -n) against:
//   (a) that database's redis-server on its own TLS port (CONFIG SET tls-port, same certificate),
//   (b) HAProxy terminating TLS in front of the same redis-server (its Unix socket),
//   (c) certplane's proxy (the database endpoint).
// Each measurement runs BENCH_REPEATS times (default 3), interleaved a/b/c, and the median is reported: ops/s,
// p50/p99 latency, and the ratios c/a and c/b. Everything listens on 127.0.0.1 and is stopped at the end.
// It also reads the CPU time the TLS-terminating process used per request (/proc/<pid>/stat): a figure that
// depends less than ops/s on what else the shared machine is doing.
// Environment: BENCH_REQUESTS (default 60000 without pipelining, 4x that with -P 16), BENCH_REPEATS (default 5).
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI, freePort, httpsRequest, startChild, waitFor, type Child, type Credentials } from './support.js';

const ADMIN: Credentials = { email: 'bench@cluster.local', password: 'Bench-Password-1' };
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const CLIENTS = 50;

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** CPU microseconds the TLS-terminating process spent per request (SET and GET of one run together). */
  cpuUs: number;
}

/** utime + stime of a process, in microseconds (USER_HZ = 100 on Linux). */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const children: Child[] = [];

async function freeDbPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 14000 + Math.floor(Math.random() * 5000);
    const ok = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free database port');
}

/** The REST API of the node, as the bench admin; the body parsed as JSON. */
async function api(port: number, method: string, apiPath: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await httpsRequest({ host: '127.0.0.1', port }, apiPath, { method, auth: ADMIN, body });
  return { status: response.status, json: response.body === '' ? undefined : JSON.parse(response.body) };
}

function run(command: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** One redis-benchmark run; returns per-test samples keyed by test name (SET, GET). */
async function benchmark(port: number, cacert: string, pipeline: number, pid: number, auth: string[] = []): Promise<Record<string, Sample>> {
  const n = pipeline > 1 ? REQUESTS * 4 : REQUESTS;
  const cpuBefore = await cpuMicros(pid);
  const out = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '--tls', '--cacert', cacert, ...auth, '-c', String(CLIENTS), '-n', String(n), '-P', String(pipeline), '-t', 'set,get', '--csv']);
  const cpuUs = ((await cpuMicros(pid)) - cpuBefore) / (2 * n);
  const result: Record<string, Sample> = {};
  for (const line of out.split('\n').slice(1)) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    if (cells.length < 7) continue;
    result[cells[0] as string] = { rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]), cpuUs };
  }
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-bench-'));
  try {
    const apiPort = await freePort();
    const node = startChild('certplane', process.execPath, [CLI, 'start', '--data-dir', path.join(dir, 'data'), '--address', '127.0.0.1', '--api-port', String(apiPort)], {
      env: { ...process.env, CERTPLANE_ADMIN_EMAIL: ADMIN.email, CERTPLANE_ADMIN_PASSWORD: ADMIN.password, CERTPLANE_LOG_LEVEL: 'warn' },
      stderr: 'inherit',
    });
    children.push(node);
    await waitFor('certplane', async () => (await api(apiPort, 'GET', '/v1/bootstrap')).json?.bootstrap_status?.state === 'completed', { child: node });

    const proxyPort = await freeDbPort();
    const created = await api(apiPort, 'POST', '/v1/bdbs', { name: 'bench', memory_size: 0, port: proxyPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' });
    if (created.status !== 200) throw new Error(`creating the database failed: ${JSON.stringify(created.json)}`);
    const uid = created.json.uid as number;
    await waitFor('the database', async () => (await api(apiPort, 'GET', `/v1/bdbs/${uid}`)).json?.status === 'active');

    const certs = (await api(apiPort, 'GET', '/v1/cluster/certificates')).json;
    const cert = path.join(dir, 'proxy.crt');
    const key = path.join(dir, 'proxy.key');
    const pem = path.join(dir, 'proxy.pem');
    await writeFile(cert, certs.proxy_cert, { mode: 0o600 });
    await writeFile(key, certs.proxy_key, { mode: 0o600 });
    await writeFile(pem, `${certs.proxy_cert}${certs.proxy_key}`, { mode: 0o600 });
    const socket = path.join(dir, 'data', 'redis', String(uid), 'redis.sock');
    // redis-server's users hold the node's secrets (src/agent/redis-secrets.ts): (a) and (b) reach redis
    // directly and log in as `default` with that secret; (c) goes through the proxy, which logs it in.
    const master = Buffer.from((await readFile(path.join(dir, 'data', 'redis', 'secret'), 'utf8')).trim(), 'hex');
    const secret = (label: string): string => createHmac('sha256', master).update(label).digest('hex');
    const admin = ['--user', '__certplane_admin', '--pass', secret(`admin:${uid}`), '--no-auth-warning'];
    const direct = ['--user', 'default', '-a', secret(`default:${uid}`)];

    // (a) redis-server's own TLS port, same certificate.
    const nativePort = await freeDbPort();
    await run('redis-cli', ['-s', socket, ...admin, 'CONFIG', 'SET', 'tls-cert-file', cert, 'tls-key-file', key, 'tls-auth-clients', 'no', 'tls-port', String(nativePort)]);
    await run('redis-cli', ['-s', socket, ...admin, 'CONFIG', 'SET', 'save', '']);

    // (b) HAProxy terminating TLS in front of the same redis-server.
    const haproxyPort = await freeDbPort();
    const haproxyCfg = path.join(dir, 'haproxy.cfg');
    await writeFile(
      haproxyCfg,
      [
        'global',
        '  maxconn 4096',
        '  ssl-default-bind-options ssl-min-ver TLSv1.2',
        'defaults',
        '  mode tcp',
        '  timeout connect 5s',
        '  timeout client 60s',
        '  timeout server 60s',
        'frontend redis_tls',
        `  bind 127.0.0.1:${haproxyPort} ssl crt ${pem}`,
        '  default_backend redis',
        'backend redis',
        `  server r1 ${socket}`,
        '',
      ].join('\n'),
    );
    const haproxy = startChild('haproxy', 'haproxy', ['-db', '-f', haproxyCfg], { stderr: 'inherit' });
    children.push(haproxy);
    await waitFor('haproxy', async () => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(haproxyPort), '--tls', '--cacert', cert, ...direct, '--no-auth-warning', 'PING'])).trim() === 'PONG', { child: haproxy });

    const redisPid = Number((await readFile(path.join(dir, 'data', 'redis', String(uid), 'redis.pid'), 'utf8')).trim());
    const targets = {
      a: { name: 'redis-server TLS', port: nativePort, pid: redisPid, auth: direct },
      b: { name: 'HAProxy 2.6 TLS', port: haproxyPort, pid: haproxy.process.pid as number, auth: direct },
      c: { name: 'certplane proxy', port: proxyPort, pid: node.process.pid as number, auth: [] as string[] },
    } as const;
    for (const target of Object.values(targets)) {
      const pong = (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(target.port), '--tls', '--cacert', cert, ...target.auth, '--no-auth-warning', 'PING'])).trim();
      if (pong !== 'PONG') throw new Error(`${target.name} did not answer PING: ${pong}`);
    }

    const cores = os.cpus().length;
    process.stdout.write(`proxy benchmark: redis-benchmark --tls, ${CLIENTS} clients, SET+GET, n=${REQUESTS} (x4 with -P 16), median of ${REPEATS}; ${cores} cores shared with the load generator\n`);
    process.stdout.write('cpu = CPU time of the TLS-terminating process per request ((a) redis-server, (b) haproxy, (c) the certplane node)\n');
    // Warm-up, not reported.
    for (const target of Object.values(targets)) await benchmark(target.port, cert, 1, target.pid, target.auth).catch(() => undefined);

    const rows: string[] = [];
    const summary: string[] = [];
    for (const pipeline of [1, 16]) {
      const samples: Record<string, Record<string, Sample[]>> = { a: {}, b: {}, c: {} };
      for (let rep = 0; rep < REPEATS; rep++) {
        for (const [id, target] of Object.entries(targets)) {
          const result = await benchmark(target.port, cert, pipeline, target.pid, target.auth);
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
          rows.push(`${test.padEnd(4)} ${`-P ${pipeline}`.padEnd(6)} (${id}) ${targets[id].name.padEnd(17)} ${s.rps.toFixed(0).padStart(9)} ops/s   p50 ${s.p50.toFixed(3).padStart(7)} ms   p99 ${s.p99.toFixed(3).padStart(7)} ms   cpu ${s.cpuUs.toFixed(2).padStart(5)} us/op`);
        }
        summary.push(
          `${test.padEnd(4)} ${`-P ${pipeline}`.padEnd(6)} c/a ${(c.rps / a.rps).toFixed(2)}   c/b ${(c.rps / b.rps).toFixed(2)}   p99 c/b ${(c.p99 / b.p99).toFixed(2)}   p99 b/a ${(b.p99 / a.p99).toFixed(2)}   cpu/op c/b ${(c.cpuUs / b.cpuUs).toFixed(2)}`,
        );
      }
    }
    process.stdout.write(`${rows.join('\n')}\n\nratios (ops/s; p99 lower is better)\n${summary.join('\n')}\n`);
  } finally {
    for (const child of children.reverse()) await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:proxy failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
  void Promise.all(children.map((child) => child.stop()));
});
