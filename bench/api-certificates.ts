// Benchmark: GET /v1/cluster/certificates throughput over HTTPS keep-alive, certplane against a bare Fastify
// HTTPS server that answers the same JSON payload with the same certificate, in the same run.
//
//   npm run bench                       (builds, then runs dist/bench/api-certificates.js)
//   BENCH_DURATION_MS=5000 BENCH_CONNECTIONS=20 BENCH_WARMUP_MS=1000 node dist/bench/api-certificates.js
//
// Both servers run as child processes (certplane exactly as `certplane start` runs, with its default log
// level unless BENCH_LOG_LEVEL is set); this process only drives the load. Both are stopped at the end,
// also on failure or Ctrl-C.
import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLI, freePort, httpsRequest, startChild, waitFor, type Child, type Credentials } from './support.js';

const SELF = fileURLToPath(import.meta.url);
const PATH = '/v1/cluster/certificates';
const ADMIN: Credentials = { email: 'bench-admin@example.com', password: 'Bench-Admin-Password-1' };

interface Result {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

// ---------------------------------------------------------------------------------------------------------
// Child mode: the bare Fastify HTTPS server.

async function runBareServer(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: { port: { type: 'string' }, dir: { type: 'string' } },
    strict: true,
  });
  const dir = values.dir ?? '';
  const [cert, key, payload] = await Promise.all(
    ['cert.pem', 'key.pem', 'payload.json'].map((f) => readFile(path.join(dir, f), 'utf8')),
  );
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ https: { cert, key, minVersion: 'TLSv1.2' }, logger: false });
  app.get(PATH, async (_request, reply) => {
    void reply.header('content-type', 'application/json; charset=utf-8');
    return payload;
  });
  await app.listen({ host: '127.0.0.1', port: Number(values.port) });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await app.close();
}

// ---------------------------------------------------------------------------------------------------------
// Driver mode.

function get(port: number, agent: https.Agent | false, auth?: Credentials): Promise<{ status: number; body: string }> {
  return httpsRequest({ host: '127.0.0.1', port }, PATH, { agent, auth });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `connections` loops, each one request at a time on its own keep-alive socket, for durationMs. */
async function drive(name: string, port: number, expectedBody: string, options: { connections: number; durationMs: number; warmupMs: number; auth?: Credentials }): Promise<Result> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections, rejectUnauthorized: false });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const maxRequests = 5_000_000; // a bound in case the clock misbehaves
  let sent = 0;
  const loop = async (until: number): Promise<void> => {
    while (performance.now() < until && sent < maxRequests) {
      sent += 1;
      const start = performance.now();
      try {
        const response = await get(port, agent, options.auth);
        const ms = performance.now() - start;
        if (response.status !== 200 || response.body.length !== expectedBody.length) errors += 1;
        else if (measuring) latencies.push(ms);
      } catch {
        errors += 1;
      }
    }
  };
  try {
    const warmupEnd = performance.now() + options.warmupMs;
    await Promise.all(Array.from({ length: options.connections }, () => loop(warmupEnd)));
    errors = 0;
    measuring = true;
    const start = performance.now();
    const end = start + options.durationMs;
    await Promise.all(Array.from({ length: options.connections }, () => loop(end)));
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return { name, requests: latencies.length, errors, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    agent.destroy();
  }
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number in [${min}, ${max}]`);
  return value;
}

async function runBenchmark(): Promise<void> {
  const connections = envNumber('BENCH_CONNECTIONS', 20, 1, 256);
  const durationMs = envNumber('BENCH_DURATION_MS', 5000, 500, 120_000);
  const warmupMs = envNumber('BENCH_WARMUP_MS', 1000, 0, 30_000);
  const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';

  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-bench-'));
  const children: Child[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map((c) => c.stop()));
  };
  const onSignal = (): void => {
    void stopAll().finally(() => rm(dir, { recursive: true, force: true })).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const [certplanePort, barePort] = [await freePort(), await freePort()];
    const dataDir = path.join(dir, 'data');
    const certplane = startChild('certplane', process.execPath, [CLI, 'start', '--data-dir', dataDir, '--address', '127.0.0.1', '--api-port', String(certplanePort)], {
      env: { ...process.env, CERTPLANE_ADMIN_EMAIL: ADMIN.email, CERTPLANE_ADMIN_PASSWORD: ADMIN.password, CERTPLANE_LOG_LEVEL: logLevel },
    });
    children.push(certplane);
    await waitFor('certplane', async () => (await httpsRequest({ host: '127.0.0.1', port: certplanePort }, '/v1/bootstrap')).status === 200, { child: certplane });

    // The same payload and the same certificate for the bare server.
    const first = await get(certplanePort, false, ADMIN);
    if (first.status !== 200) throw new Error(`GET ${PATH} answered ${first.status}: ${first.body}`);
    const certificates = JSON.parse(first.body) as Record<string, string>;
    const bareDir = path.join(dir, 'bare');
    await import('node:fs/promises').then((fs) => fs.mkdir(bareDir, { mode: 0o700 }));
    await writeFile(path.join(bareDir, 'cert.pem'), certificates.api_cert ?? '', { mode: 0o600 });
    await writeFile(path.join(bareDir, 'key.pem'), certificates.api_key ?? '', { mode: 0o600 });
    await writeFile(path.join(bareDir, 'payload.json'), first.body, { mode: 0o600 });
    const bare = startChild('bare Fastify server', process.execPath, [SELF, '--bare', '--port', String(barePort), '--dir', bareDir]);
    children.push(bare);
    await waitFor('bare Fastify server', async () => bare.output().includes('ready'), { child: bare });
    const check = await get(barePort, false);
    if (check.status !== 200 || check.body !== first.body) throw new Error('the bare server does not answer the same payload');

    process.stdout.write(
      `GET ${PATH}, payload ${first.body.length} bytes, ${connections} keep-alive connections, ` +
        `${warmupMs} ms warm-up + ${durationMs} ms each, certplane log level ${logLevel}, ${os.cpus().length} CPUs\n`,
    );
    const results: Result[] = [];
    results.push(await drive('bare fastify', barePort, first.body, { connections, durationMs, warmupMs }));
    results.push(await drive('certplane', certplanePort, first.body, { connections, durationMs, warmupMs, auth: ADMIN }));

    const rows = results.map((r) => ({
      server: r.name,
      'req/s': Math.round(r.requests / r.seconds),
      'p50 ms': r.p50.toFixed(2),
      'p99 ms': r.p99.toFixed(2),
      requests: r.requests,
      errors: r.errors,
    }));
    console.table(rows);
    const [bareResult, certplaneResult] = results as [Result, Result];
    const ratio = certplaneResult.requests / certplaneResult.seconds / (bareResult.requests / bareResult.seconds);
    process.stdout.write(`ratio certplane/bare (throughput): ${ratio.toFixed(2)}\n`);
    process.stdout.write(`ratio certplane/bare (p50 latency): ${(certplaneResult.p50 / bareResult.p50).toFixed(2)}\n`);
    if (results.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const main = process.argv[2] === '--bare' ? runBareServer : runBenchmark;
main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
