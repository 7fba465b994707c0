// TLS handshake load generator: worker threads (handshake-worker.ts) doing tls.connect in a loop against one
// endpoint for a bounded time, and the server's CPU time per handshake read from /proc around it (the node and
// its descendants for certplane, HAProxy's process for HAProxy). Also reports the generator's own CPU per
// handshake, so a reader can tell whether the generator, not the server, was the limit.
import { Worker } from 'node:worker_threads';
import { treeCpuMicros } from './proc-tree.js';
import type { HandshakeWorkerData, HandshakeWorkerResult } from './handshake-worker.js';

export interface HandshakeLoad {
  port: number;
  /** The server's root process (CPU of it and its descendants, backends excluded). */
  serverPid: number;
  mode: 'full' | 'resume';
  client?: { cert: string; key: string };
  groups: string;
  maxVersion: 'TLSv1.2' | 'TLSv1.3';
  workers: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface HandshakeSample {
  /** Handshakes completed per second in the measured window. */
  rate: number;
  /** Share of the measured handshakes that resumed a session (0..1). */
  resumedShare: number;
  p50: number;
  p99: number;
  /** Server CPU microseconds per handshake (warm-up included on both sides of the division). */
  serverCpuUs: number;
  /** This process's CPU (the generator, all threads) per handshake, microseconds. */
  clientCpuUs: number;
  errors: number;
  firstError?: string;
}

function runWorker(data: HandshakeWorkerData): Promise<HandshakeWorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./handshake-worker.js', import.meta.url), { workerData: data });
    let result: HandshakeWorkerResult | undefined;
    worker.once('message', (message: HandshakeWorkerResult) => (result = message));
    worker.once('error', reject);
    worker.once('exit', (code) => (result === undefined ? reject(new Error(`handshake worker exited with ${code} and no result`)) : resolve(result)));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function measureHandshakes(load: HandshakeLoad): Promise<HandshakeSample> {
  const data: HandshakeWorkerData = {
    port: load.port,
    mode: load.mode,
    groups: load.groups,
    maxVersion: load.maxVersion,
    concurrency: load.concurrency,
    warmupMs: load.warmupMs,
    durationMs: load.durationMs,
    ...(load.client === undefined ? {} : { cert: load.client.cert, key: load.client.key }),
  };
  const serverBefore = await treeCpuMicros(load.serverPid);
  const clientBefore = process.cpuUsage();
  const results = await Promise.all(Array.from({ length: load.workers }, () => runWorker(data)));
  const clientUsage = process.cpuUsage(clientBefore);
  const serverCpu = (await treeCpuMicros(load.serverPid)) - serverBefore;
  const all = results.reduce((n, r) => n + r.all, 0);
  const measured = results.reduce((n, r) => n + r.measured, 0);
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
  return {
    rate: measured / (load.durationMs / 1000),
    resumedShare: measured === 0 ? 0 : results.reduce((n, r) => n + r.resumed, 0) / measured,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    serverCpuUs: all === 0 ? NaN : serverCpu / all,
    clientCpuUs: all === 0 ? NaN : (clientUsage.user + clientUsage.system) / all,
    errors: results.reduce((n, r) => n + r.errors, 0),
    ...(firstError === undefined ? {} : { firstError }),
  };
}
