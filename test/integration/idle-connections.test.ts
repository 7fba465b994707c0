// 10 000 idle TLS connections on one database endpoint (issue 12, "Bad input and faults"), against the built
// server with two data-plane processes (CERTPLANE_DATA_PLANE_PROCESSES=2, SO_REUSEPORT): a proxied connection
// holds two open files in its data-plane process (client and backend), so one process under a 20 000 open-file
// limit cannot hold 10 000 of them; two can (README "Data plane"). Under a lower limit it opens fewer and says so.
// Each idle connection completes its
// handshake, is logged in, answers one PING and then sends nothing. Meanwhile another endpoint must keep
// answering as before, every idle connection must still be open, and a sample of them must still answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { freeDbPort, waitForActive } from '../helpers/redis-cli.js';

/** The soft open-file limit of this process (the node it starts inherits it). */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  const soft = line.replace('Max open files', '').trim().split(/\s+/)[0] ?? '';
  return soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
}

/** Files kept free in each process for everything else it does. */
const SPARE_FILES = 1000;
// 10 000 where the open-file limit allows (20 000 on the development VM); fewer, and said so, where it does not.
const LIMIT = openFileLimit();
const IDLE = Math.min(10_000, LIMIT - SPARE_FILES);
/** Data-plane processes: two files per proxied connection, spread about evenly, so two hold IDLE within the limit. */
const PROCESSES = 2;
/** Handshakes in flight while opening (the node's handshake timeout is far above what this takes). */
const IN_FLIGHT = 64;

let node: TestNode;
let dataDir: string;
let idlePort: number;
let otherPort: number;
const sockets: tls.TLSSocket[] = [];

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(node.port, { method, path: apiPath, body, auth: node.admin });

/** A TLS connection that has answered `PING` with +PONG; resolves with the socket, which then stays open. */
function pingedConnection(port: number, context: tls.SecureContext): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, secureContext: context, rejectUnauthorized: false });
    let reply = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no +PONG within 60 s (so far: ${reply})`)), 60_000);
    const onData = (chunk: Buffer): void => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      if (reply !== '+PONG\r\n') {
        socket.destroy();
        reject(new Error(`answered ${reply.trim()}`));
        return;
      }
      resolve(socket);
    };
    socket.once('secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', onData);
    socket.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** One PING on an open connection; resolves with the reply. */
function ping(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply within 10 s')), 10_000);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString('latin1'));
    });
    socket.write('PING\r\n');
  });
}

/** Milliseconds of `count` PINGs one after another on one connection, sorted. */
async function pingTimes(socket: tls.TLSSocket, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    expect(await ping(socket)).toBe('+PONG\r\n');
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

function dataPlanePids(): number[] {
  return Array.from({ length: PROCESSES }, (_, worker) => Number(readFileSync(path.join(dataDir, 'data-plane', `data-plane-${worker}.pid`), 'utf8').trim()));
}

function vmRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(line.replace(/\D+/g, '')) * 1024;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-idle-'));
  node = await startTestNode({ dataDir, env: { CERTPLANE_DATA_PLANE_PROCESSES: String(PROCESSES), CERTPLANE_LOG_LEVEL: 'warn' } });
  idlePort = await freeDbPort();
  otherPort = await freeDbPort();
  for (const [uid, port] of [
    [1, idlePort],
    [2, otherPort],
  ] as const) {
    const created = await api('POST', '/v1/bdbs', { uid, name: `idle-${uid}`, memory_size: 0, port, tls_mode: 'enabled', enforce_client_authentication: 'disabled' });
    expect(created.status, created.text).toBe(200);
    await waitForActive(node.port, node.admin, uid);
  }
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe('10 000 idle TLS connections on one endpoint', () => {
  it('holds them all (data-plane processes as the open-file limit needs), and another endpoint answers as before', async () => {
    if (IDLE < 10_000) process.stdout.write(`idle: the open-file limit is ${LIMIT}: ${IDLE} connections instead of 10 000\n`);
    expect(IDLE, `the open-file limit (${LIMIT}) leaves room for too few connections`).toBeGreaterThanOrEqual(2000);
    const context = tls.createSecureContext({ ecdhCurve: 'X25519' });
    const probe = await pingedConnection(otherPort, context);
    sockets.push(probe);
    const before = await pingTimes(probe, 200);
    const rssBefore = dataPlanePids().reduce((sum, pid) => sum + vmRss(pid), 0);

    const started = Date.now();
    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < IDLE) {
          next += 1;
          try {
            sockets.push(await pingedConnection(idlePort, context));
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
    const openSeconds = (Date.now() - started) / 1000;
    expect(failures.slice(0, 5), `${failures.length} connections failed`).toEqual([]);
    expect(sockets.length).toBe(IDLE + 1);

    const after = await pingTimes(probe, 200);
    const rssAfter = dataPlanePids().reduce((sum, pid) => sum + vmRss(pid), 0);
    // Each data-plane process took a share (SO_REUSEPORT), and none was restarted meanwhile.
    const open = await Promise.all(dataPlanePids().map(async (pid) => (await import('node:fs/promises')).readdir(`/proc/${pid}/fd`).then((fds) => fds.length)));
    process.stdout.write(
      `idle: ${IDLE} TLS connections (${PROCESSES} data-plane processes) opened in ${openSeconds.toFixed(1)} s; data-plane open files ${open.join(' + ')}; ` +
        `RSS ${((rssAfter - rssBefore) / IDLE / 1024).toFixed(1)} KiB per connection; ` +
        `other endpoint PING median ${quantile(before, 0.5).toFixed(2)} -> ${quantile(after, 0.5).toFixed(2)} ms, p90 ${quantile(before, 0.9).toFixed(2)} -> ${quantile(after, 0.9).toFixed(2)} ms, p99 ${quantile(before, 0.99).toFixed(2)} -> ${quantile(after, 0.99).toFixed(2)} ms\n`,
    );
    for (const files of open) expect(files).toBeGreaterThan(IDLE / PROCESSES / 2);
    // Another endpoint is not slowed by them: generous bounds for a shared 2-core machine running other test
    // files beside this one (`npm run bench:memory` gives the figures); a data plane stalled by the idle
    // connections would take seconds.
    expect(quantile(after, 0.5)).toBeLessThan(Math.max(5 * quantile(before, 0.5), 20));
    expect(quantile(after, 0.9)).toBeLessThan(Math.max(10 * quantile(before, 0.9), 250));

    // Every idle connection is still open, and every 100th still answers.
    expect(sockets.filter((s) => s.destroyed).length).toBe(0);
    for (let i = 1; i < sockets.length; i += 100) expect(await ping(sockets[i] as tls.TLSSocket)).toBe('+PONG\r\n');
    // A new connection to the crowded endpoint is served too.
    const fresh = await pingedConnection(idlePort, context);
    sockets.push(fresh);
    expect(await ping(fresh)).toBe('+PONG\r\n');
  }, 600_000);
});
