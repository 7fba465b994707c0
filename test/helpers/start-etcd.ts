// Starts a real single-member etcd (Debian etcd-server) on free loopback ports with a temporary data dir,
// waits until /health answers, and can stop, freeze (SIGSTOP), resume and restart it on the same ports and
// data. destroy() stops it (by PID) and removes the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { freezeProcess } from './freeze-process.js';

export interface TestEtcd {
  clientPort: number;
  /** `http://127.0.0.1:<port>`, for EtcdStore hosts. */
  url: string;
  /** `etcd://127.0.0.1:<port>`, for `certplane start --store`. */
  storeUrl: string;
  output(): string;
  /** SIGTERM and wait; data stays for start(). */
  stop(): Promise<void>;
  /** Starts again on the same ports and data dir and waits until healthy (no-op while running). */
  start(): Promise<void>;
  /** SIGSTOP: the process holds its sockets but answers nothing (a network cut, as seen by clients). */
  freeze(): Promise<void>;
  /** SIGCONT after freeze(). */
  resume(): void;
  destroy(): Promise<void>;
}

export async function startEtcd(): Promise<TestEtcd> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(
      'etcd',
      [
        '--name', 'test',
        '--data-dir', path.join(dataDir, 'data'),
        '--listen-client-urls', url,
        '--advertise-client-urls', url,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', `test=${peerUrl}`,
        '--log-level', 'warn',
        '--logger', 'zap',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`etcd exited before it was healthy:\n${output}`);
      if (await isHealthy(clientPort)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stop();
    throw new Error(`etcd was not healthy within 20 s:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    // A frozen etcd must be resumed to act on SIGTERM.
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    await exited;
  };

  await launch();
  return {
    clientPort,
    url,
    storeUrl: `etcd://127.0.0.1:${clientPort}`,
    output: () => output,
    stop,
    start: launch,
    freeze: async () => {
      if (child?.pid !== undefined) await freezeProcess(child.pid);
    },
    resume: () => child?.kill('SIGCONT'),
    destroy: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function isHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(response.statusCode === 200 && body.includes('"health":"true"')));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** Compacts etcd up to its current revision through the HTTP gateway (Debian's etcd-server ships no etcdctl). */
export async function compactEtcd(url: string): Promise<number> {
  const status = (await (await fetch(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })).json()) as {
    header: { revision: string };
  };
  const revision = status.header.revision;
  const response = await fetch(`${url}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  if (!response.ok) throw new Error(`compaction failed: ${response.status} ${await response.text()}`);
  return Number(revision);
}
