// What the benchmarks share: free loopback ports, child processes that can always be stopped (SIGTERM, then
// SIGKILL after 10 s), waiting until something is ready, and HTTPS requests to a certplane node with Basic auth.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** The certplane command line, as `certplane start` runs it (dist/src/cli/main.js beside dist/bench/). */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** A port the OS reports free on host (it may be taken again before it is used; fine for a benchmark). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export interface Child {
  name: string;
  process: ChildProcess;
  /** The last 20 kB of its stdout and stderr (what was not passed through). */
  output(): string;
  /** SIGTERM, SIGKILL after 10 s; resolves once it has exited (at once if it already has). */
  stop(): Promise<void>;
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** 'inherit' shows its stderr on ours as it comes (default: kept for output()). */
  stderr?: 'keep' | 'inherit';
}

export function startChild(name: string, command: string, args: string[], options: ChildOptions = {}): Child {
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', options.stderr === 'inherit' ? 'inherit' : 'pipe'] });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
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

/**
 * Polls ready() (an error counts as not ready) until it says yes; fails after timeoutMs, or at once when the
 * child it waits for has exited, with the child's output.
 */
/**
 * Stops every child started so far (newest first) when the benchmark is interrupted (Ctrl-C, SIGTERM), then
 * exits: an interrupted run leaves no node, data plane, redis-server or HAProxy behind. A node stops its own
 * data plane and redis-servers on SIGTERM.
 */
export function stopChildrenOnSignal(children: Child[]): void {
  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: stopping ${children.length} started processes\n`);
    void Promise.all([...children].reverse().map((child) => child.stop())).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function waitFor(what: string, ready: () => Promise<boolean>, options: { child?: Child; timeoutMs?: number } = {}): Promise<void> {
  const { child, timeoutMs = 30_000 } = options;
  const tail = (): string => (child === undefined ? '' : `:\n${child.output()}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && child.process.exitCode !== null) throw new Error(`${what} exited before it was ready${tail()}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms${tail()}`);
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface Credentials {
  email: string;
  password: string;
}

export interface RequestOptions {
  method?: string;
  /** Basic auth; none when undefined. */
  auth?: Credentials;
  /** Sent as JSON. */
  body?: unknown;
  /** A keep-alive agent, or false for a fresh connection. */
  agent?: https.Agent | false;
}

/** One HTTPS request (the server certificate is not verified); the status and the body as text. */
export function httpsRequest(endpoint: Endpoint, urlPath: string, options: RequestOptions = {}): Promise<{ status: number; body: string }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { accept: 'application/json' };
  if (options.auth !== undefined) headers.authorization = `Basic ${Buffer.from(`${options.auth.email}:${options.auth.password}`).toString('base64')}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: endpoint.host, port: endpoint.port, path: urlPath, method: options.method ?? 'GET', headers, agent: options.agent ?? false, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
