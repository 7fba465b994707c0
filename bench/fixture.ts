// What the database benchmarks (proxy, isolation, memory) share: a certplane node started as `certplane start`
// runs it, databases created through its REST API, the secrets to reach a database's redis-server directly,
// HAProxy in front of the same redis-server, redis-cli checks, medians and target lines. The benchmarks talk to
// the node only through its REST API and its database ports, so they measure whatever process layout the node
// uses for its data plane.
import { execFile } from 'node:child_process';
import { createHmac, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import os from 'node:os';
import { raisePriority } from '../src/lib/process-priority.js';
import { processTree, type ProcStat } from './proc-tree.js';
import { CLI, freePort, httpsRequest, startChild, waitFor, type Child, type Credentials, type Endpoint } from './support.js';

export const ADMIN: Credentials = { email: 'bench@cluster.local', password: 'Bench-Password-1' };

/** A free port in the database range (10000-19999), bound exclusively to check. */
export async function freeDbPort(): Promise<number> {
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

export function run(command: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

export interface ApiResponse {
  status: number;
  json: any;
}

export interface CertplaneNode {
  child: Child;
  pid: number;
  api: Endpoint;
  dataDir: string;
  /** One REST API request as the bench admin (fresh connection); the body parsed as JSON. */
  request(method: string, apiPath: string, body?: unknown): Promise<ApiResponse>;
}

/** Starts a node in dir/data (extra CLI flags appended) and waits until it answers as bootstrapped. */
export async function startNode(dir: string, extraArgs: string[] = [], logLevel = 'warn', env: Record<string, string> = {}): Promise<CertplaneNode> {
  const apiPort = await freePort();
  const dataDir = path.join(dir, 'data');
  const child = startChild('certplane', process.execPath, [CLI, 'start', '--data-dir', dataDir, '--address', '127.0.0.1', '--api-port', String(apiPort), ...extraArgs], {
    env: { ...process.env, CERTPLANE_ADMIN_EMAIL: ADMIN.email, CERTPLANE_ADMIN_PASSWORD: ADMIN.password, CERTPLANE_LOG_LEVEL: logLevel, ...env },
    stderr: 'inherit',
  });
  const api = { host: '127.0.0.1', port: apiPort };
  const request = async (method: string, apiPath: string, body?: unknown): Promise<ApiResponse> => {
    const response = await httpsRequest(api, apiPath, { method, auth: ADMIN, body });
    return { status: response.status, json: response.body === '' ? undefined : JSON.parse(response.body) };
  };
  const node: CertplaneNode = { child, pid: child.process.pid as number, api, dataDir, request };
  // A cold start can take well over 30 s on a 2-core machine shared with other work (BENCH_START_TIMEOUT_MS).
  const timeoutMs = Number(process.env.BENCH_START_TIMEOUT_MS ?? '120000');
  await waitFor('certplane', async () => (await request('GET', '/v1/bootstrap')).json?.bootstrap_status?.state === 'completed', { child, timeoutMs });
  return node;
}

export interface Database {
  uid: number;
  /** certplane's endpoint (the proxy). */
  port: number;
  /** redis-server's Unix socket. */
  socket: string;
  redisPid: number;
  /** redis-cli / redis-benchmark arguments to log in as `default` directly at redis-server (HAProxy, redis's own TLS port). */
  directAuth: string[];
  /** redis-cli arguments for certplane's internal admin user, directly at redis-server. */
  adminAuth: string[];
}

/** POST /v1/bdbs with TLS (fields merged into the defaults), then waits until it is active. */
export async function createDatabase(node: CertplaneNode, name: string, fields: Record<string, unknown> = {}): Promise<Database> {
  const port = await freeDbPort();
  const created = await node.request('POST', '/v1/bdbs', { name, memory_size: 0, port, tls_mode: 'enabled', enforce_client_authentication: 'disabled', ...fields });
  if (created.status !== 200) throw new Error(`creating database ${name} failed: ${JSON.stringify(created.json)}`);
  const uid = created.json.uid as number;
  await waitFor(`database ${name}`, async () => (await node.request('GET', `/v1/bdbs/${uid}`)).json?.status === 'active');
  const redisDir = path.join(node.dataDir, 'redis', String(uid));
  // redis-server's users hold the node's secrets (src/agent/redis-secrets.ts): HAProxy and redis's own TLS port
  // reach redis directly and log in as `default` with that secret; certplane's proxy logs its clients in itself.
  const master = Buffer.from((await readFile(path.join(node.dataDir, 'redis', 'secret'), 'utf8')).trim(), 'hex');
  const secret = (label: string): string => createHmac('sha256', master).update(label).digest('hex');
  let redisPid = 0;
  await waitFor(`redis-server of ${name}`, async () => {
    redisPid = Number((await readFile(path.join(redisDir, 'redis.pid'), 'utf8')).trim());
    return redisPid > 0;
  });
  return {
    uid,
    port,
    socket: path.join(redisDir, 'redis.sock'),
    redisPid,
    directAuth: ['--user', 'default', '-a', secret(`default:${uid}`)],
    adminAuth: ['--user', '__certplane_admin', '-a', secret(`admin:${uid}`)],
  };
}

/** PUT the `proxy` certificate, then wait until the endpoint presents it on a fresh handshake. */
export async function installProxyCertificate(node: CertplaneNode, certificate: { name: string; certificate: string; key: string }, port: number): Promise<void> {
  const put = await node.request('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: certificate.certificate, key: certificate.key }] });
  if (put.status !== 200) throw new Error(`PUT proxy certificate ${certificate.name} failed: ${put.status} ${JSON.stringify(put.json)}`);
  const want = new X509Certificate(certificate.certificate).fingerprint256;
  const presented = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        const raw = socket.getPeerCertificate().raw;
        socket.destroy();
        resolve(new X509Certificate(raw).fingerprint256);
      });
      socket.on('error', reject);
    });
  // Several handshakes in a row: with several data-plane processes on one port each must have it.
  const deadline = Date.now() + 30_000;
  for (let inARow = 0; inARow < 10; ) {
    if ((await presented()) === want) {
      inARow += 1;
      continue;
    }
    inARow = 0;
    if (Date.now() > deadline) throw new Error(`the endpoint does not present ${certificate.name} 30 s after the PUT`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** redis-cli arguments for a TLS connection (CA file, optional client certificate). */
export function tlsArgs(ca: string, client?: { cert: string; key: string }): string[] {
  return ['--tls', '--cacert', ca, ...(client === undefined ? [] : ['--cert', client.cert, '--key', client.key])];
}

/** PING through a TLS endpoint with redis-cli; throws unless it answers PONG. */
export async function expectPong(what: string, port: number, args: string[]): Promise<void> {
  const pong = (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args, '--no-auth-warning', 'PING'], 30_000)).trim();
  if (pong !== 'PONG') throw new Error(`${what} did not answer PING: ${pong}`);
}

/** A redis-cli command at a database's redis-server, over its Unix socket, as certplane's internal admin. */
export function adminCommand(db: Database, command: string[]): Promise<string> {
  return run('redis-cli', ['-s', db.socket, ...db.adminAuth, '--no-auth-warning', ...command], 30_000);
}

export interface HaproxyFrontend {
  port: number;
  /** PEM with certificate and key. */
  pem: string;
  /** Require client certificates that chain to this CA file. */
  clientCa?: string;
  /** The redis-server Unix socket behind it. */
  backendSocket: string;
}

/**
 * HAProxy 2.6 terminating TLS (TLS 1.2+, its defaults otherwise: 2 threads on 2 cores, session cache and
 * tickets on) in front of redis-server Unix sockets, one frontend per entry. maxconn 9000: its open-file need
 * (2 per connection) stays under the 20 000 hard limit of the shared VM.
 */
export async function startHaproxy(dir: string, frontends: HaproxyFrontend[], maxconn = 9000): Promise<Child> {
  const cfg = path.join(dir, 'haproxy.cfg');
  const lines = ['global', `  maxconn ${maxconn}`, '  ssl-default-bind-options ssl-min-ver TLSv1.2', 'defaults', '  mode tcp', `  maxconn ${maxconn}`, '  timeout connect 5s', '  timeout client 600s', '  timeout server 600s'];
  frontends.forEach((f, i) => {
    const verify = f.clientCa === undefined ? '' : ` ca-file ${f.clientCa} verify required`;
    lines.push(`frontend f${i}`, `  bind 127.0.0.1:${f.port} ssl crt ${f.pem}${verify}`, `  default_backend b${i}`, `backend b${i}`, `  server r${i} ${f.backendSocket}`);
  });
  await writeFile(cfg, `${lines.join('\n')}\n`);
  const child = startChild('haproxy', 'haproxy', ['-db', '-f', cfg], { stderr: 'inherit' });
  await waitFor(
    'haproxy',
    async () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(frontends[0]?.port ?? 0, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    { child },
  );
  return child;
}

/**
 * Gives HAProxy (every thread) the priority certplane gave its data plane (README "Data plane": 5 nice levels
 * above the node when it may), so both data paths compete for the CPU on equal terms; the node, the API load and
 * the load generators stay where they are. Returns a line for the output.
 */
export async function matchDataPlanePriority(nodePid: number, haproxyPid: number): Promise<string> {
  const tree = await processTree(nodePid);
  const dataPlane = tree.find((p) => p.pid !== nodePid && p.comm !== 'redis-server');
  if (dataPlane === undefined) return 'priority: no data-plane process found; HAProxy left at its priority';
  const node = tree.find((p) => p.pid === nodePid) as ProcStat;
  const result = dataPlane.nice === node.nice ? undefined : raisePriority(haproxyPid, node.nice - dataPlane.nice);
  const haproxy = result?.raised === true ? String(result.priority) : `unchanged (${result?.reason ?? 'the data plane runs at the node\'s priority'})`;
  return `priority (nice): certplane node ${node.nice}, its data plane ${dataPlane.nice}; HAProxy ${haproxy}; load generators ${os.getPriority()}`;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "name  1.23x  (target >= 1.0x)  met" for higher-is-better (>=) or lower-is-better (<=) ratios. */
export function targetLine(name: string, ratio: number, op: '>=' | '<=', target: number): string {
  const met = op === '>=' ? ratio >= target : ratio <= target;
  return `${name.padEnd(44)} ${ratio.toFixed(2).padStart(6)}x   (target ${op} ${target.toFixed(1)}x)   ${Number.isFinite(ratio) ? (met ? 'met' : 'NOT met') : 'n/a'}`;
}

/** A positive integer from a CLI flag, else an environment variable, else the default. */
export function intOption(flag: string | undefined, env: string, fallback: number, min = 1): number {
  const raw = flag ?? process.env[env];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${env} (or its flag) must be an integer >= ${min}, got ${raw}`);
  return value;
}
