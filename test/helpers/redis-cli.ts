// Runs the real redis-cli (plain or --tls with client certificates) against a database endpoint, and a few
// helpers around databases: a free endpoint port, waiting until a database is active, reading its redis pid.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { apiRequest, type Credentials } from './api-client.js';

export interface CliTls {
  cacert: string;
  cert?: string;
  key?: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** redis-cli -h 127.0.0.1 -p PORT [--tls …] ARGS; resolves with its output (never rejects on exit codes). */
export function redisCli(port: number, args: string[], options: { tls?: CliTls; user?: string; pass?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const tlsArgs = options.tls === undefined ? [] : ['--tls', '--cacert', options.tls.cacert, ...(options.tls.cert ? ['--cert', options.tls.cert, '--key', options.tls.key ?? ''] : [])];
  const authArgs = options.user !== undefined ? ['--user', options.user, '--pass', options.pass ?? ''] : options.pass !== undefined ? ['-a', options.pass] : [];
  return new Promise((resolve) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), ...tlsArgs, ...authArgs, '--no-auth-warning', ...args],
      { timeout: options.timeoutMs ?? 10_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: stdout.trim(), stderr: stderr.trim() }),
    );
  });
}

/** Writes PEM texts to files in dir and returns their paths. */
export async function writePems(dir: string, files: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    await writeFile(file, text, { mode: 0o600 });
    out[name] = file;
  }
  return out;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A random free port in the database range (13000-19999), so parallel test files do not collide. */
export async function freeDbPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 13000 + Math.floor(Math.random() * 6999);
    if (port !== 10050 && (await bindable(port))) return port;
  }
  throw new Error('no free database port');
}

/** Polls until fn returns a truthy value (bounded). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Waits until GET /v1/bdbs/{uid} reports status active. */
export async function waitForActive(apiPort: number, admin: Credentials, uid: number): Promise<any> {
  return waitFor(`database ${uid} to become active`, async () => {
    const response = await apiRequest(apiPort, { path: `/v1/bdbs/${uid}`, auth: admin });
    return response.json?.status === 'active' ? response.json : undefined;
  });
}

/** The pid of database uid's redis-server, from its pidfile. */
export async function redisPid(dataDir: string, uid: number): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path.join(dataDir, 'redis', String(uid), 'redis.pid'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * redis-cli on database uid's Unix socket as certplane's internal admin (the node's secret, derived as
 * src/agent/redis-secrets.ts does): for tests that read what clients may not (ACL LIST, CONFIG GET).
 */
export async function adminRedisCli(dataDir: string, uid: number, args: string[]): Promise<CliResult> {
  const { createHmac } = await import('node:crypto');
  const master = Buffer.from((await readFile(path.join(dataDir, 'redis', 'secret'), 'utf8')).trim(), 'hex');
  const password = createHmac('sha256', master).update(`admin:${uid}`).digest('hex');
  const socket = path.join(dataDir, 'redis', String(uid), 'redis.sock');
  return new Promise((resolve) => {
    execFile('redis-cli', ['-s', socket, '--user', '__certplane_admin', '--pass', password, '--no-auth-warning', ...args], { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: stdout.trim(), stderr: stderr.trim() }),
    );
  });
}
