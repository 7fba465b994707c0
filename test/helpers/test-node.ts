// Starts a real certplane node (the built CLI in a child process) on a free loopback port with a temporary
// data dir, waits until GET /v1/bootstrap answers, and stops it (and removes the dir) in teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { apiRequest, type Credentials } from './api-client.js';

export interface TestNode {
  port: number;
  metricsPort: number;
  /** The Cluster Manager UI port (--cm-port; a free one unless StartOptions.cmPort). */
  cmPort: number;
  /** The loopback address the node binds (127.0.0.1 unless StartOptions.address). */
  address: string;
  dataDir: string;
  /** The store as `--store` (or CERTPLANE_STORE) named it: 'sqlite' (the file in dataDir) or an etcd URL. */
  store: string;
  admin: Credentials;
  process: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Stops with SIGTERM and waits; the data dir stays for a restart. */
  stop(): Promise<void>;
  /** SIGKILL, no cleanup. */
  kill(): Promise<void>;
  /** Stops the process if running and removes the data dir. */
  destroy(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
  args?: string[];
  admin?: Credentials;
  /** Address to bind (e.g. 127.0.0.2 for a second node of a cluster); default 127.0.0.1. */
  address?: string;
  /** Metrics exporter port; default a free one (8070 would collide between test files running in parallel). */
  metricsPort?: number;
  /** Cluster Manager UI port; default a free one (8443 would collide between test files running in parallel). */
  cmPort?: number;
}

const CLI = path.resolve('dist/src/cli/main.js');

/**
 * Data dirs this helper made: destroy() removes them, also from a node restarted on the same dir (a test that
 * restarts a node passes its dataDir back in); a dir the test made itself is the test's to remove.
 */
const madeDataDirs = new Set<string>();

export async function startTestNode(options: StartOptions = {}): Promise<TestNode> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'certplane-test-')));
  if (options.dataDir === undefined) madeDataDirs.add(dataDir);
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? (await freePort(address));
  const metricsPort = options.metricsPort ?? (await freePort(address));
  const cmPort = options.cmPort ?? (await freePort(address));
  const admin = options.admin ?? { email: 'admin@cluster.local', password: 'Admin-Password-1' };
  let output = '';
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--data-dir', dataDir, '--address', address, '--api-port', String(port), '--metrics-port', String(metricsPort), '--cm-port', String(cmPort), ...(options.args ?? [])],
    {
      env: { ...process.env, CERTPLANE_ADMIN_EMAIL: admin.email, CERTPLANE_ADMIN_PASSWORD: admin.password, CERTPLANE_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitExit = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  const node: TestNode = {
    port,
    metricsPort,
    cmPort,
    address,
    dataDir,
    store: storeOf(options),
    admin,
    process: child,
    output: () => output,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    destroy: async () => {
      await waitExit('SIGTERM');
      if (madeDataDirs.delete(dataDir)) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
  await waitUntilReady(node, exited);
  return node;
}

function storeOf(options: StartOptions): string {
  const args = options.args ?? [];
  const flag = args.indexOf('--store');
  return flag >= 0 ? (args[flag + 1] ?? 'sqlite') : (options.env?.CERTPLANE_STORE ?? 'sqlite');
}

/** Whether a TCP connection to the port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function waitUntilReady(node: TestNode, exited: Promise<void>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  // Generous: a node starts in 2-3 s on a quiet 2-core machine, but ~20 s at load average 20 (RSA key generation).
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (done) throw new Error(`certplane exited before it was ready:\n${node.output()}`);
    try {
      const response = await apiRequest(node.port, { path: '/v1/bootstrap' }, node.address);
      // Ready once the API answers and the Cluster Manager UI listens too (it starts right after the API).
      if (response.status === 200 && response.json?.bootstrap_status?.state === 'completed' && (await accepts(node.address, node.cmPort))) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await node.kill();
  throw new Error(`certplane did not become ready in 60 s:\n${node.output()}`);
}
