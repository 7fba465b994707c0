// TLS session ticket keys of the data plane (README "Data plane", session tickets): every process of a node
// shares one key set, and the node replaces it every CERTPLANE_TICKET_KEY_ROTATION_SECONDS (here 6 s). A ticket
// resumes until the next rotation; a ticket issued before it no longer does (the client gets a full handshake,
// nothing breaks), and tickets issued after it resume again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { freeDbPort, waitFor, waitForActive } from '../helpers/redis-cli.js';

const ROTATION_SECONDS = 6;
let node: TestNode;
let dataDir: string;
let tlsPort: number;

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(node.port, { method, path: apiPath, body, auth: node.admin });

/**
 * One TLS 1.3 connection (offering `session` if given): whether it resumed, PING's reply and the first ticket
 * the server sent, if any (a full handshake gets tickets; a resumed one need not).
 */
function handshake(session?: Buffer): Promise<{ reused: boolean; ticket: Buffer | undefined; pong: string }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let pong = '';
    const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...(session === undefined ? {} : { session }) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no PONG (and ticket after a full handshake) within 10 s (ticket: ${ticket !== undefined}, reply: ${JSON.stringify(pong)})`));
    }, 10_000);
    const done = (): void => {
      if (!pong.includes('+PONG')) return;
      const reused = socket.isSessionReused();
      if (!reused && ticket === undefined) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ reused, ticket, pong });
    };
    socket.on('session', (value: Buffer) => {
      ticket ??= value;
      done();
    });
    socket.once('secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      pong += chunk.toString('latin1');
      done();
    });
    socket.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-tickets-'));
  node = await startTestNode({ dataDir, env: { CERTPLANE_TICKET_KEY_ROTATION_SECONDS: String(ROTATION_SECONDS) } });
  tlsPort = await freeDbPort();
  expect((await api('POST', '/v1/bdbs', { uid: 1, name: 'tickets-db', memory_size: 0, port: tlsPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' })).status).toBe(200);
  await waitForActive(node.port, node.admin, 1);
}, 120_000);

afterAll(async () => {
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe('TLS session ticket keys of the data plane', () => {
  it('resumes with a fresh ticket, refuses a ticket from before a rotation (full handshake instead), resumes with a new one', async () => {
    const rotations = (): number => node.output().split('\n').filter((line) => line.includes('TLS session ticket keys rotated')).length;
    // Right after a rotation, so the next one is ROTATION_SECONDS away.
    const before = rotations();
    await waitFor('a ticket key rotation', async () => rotations() > before, 30_000);
    const first = await handshake();
    expect(first.reused).toBe(false);
    expect(first.pong).toContain('+PONG');
    const ticket = first.ticket as Buffer;
    const resumed = await handshake(ticket);
    expect(resumed.reused).toBe(true);
    expect(resumed.pong).toContain('+PONG');
    // After the next rotation the old ticket is worthless: a full handshake, and the connection still works.
    const seen = rotations();
    await waitFor('the next ticket key rotation', async () => rotations() > seen, 30_000);
    const stale = await handshake(ticket);
    expect(stale.reused).toBe(false);
    expect(stale.pong).toContain('+PONG');
    const again = await handshake(stale.ticket);
    expect(again.reused).toBe(true);
  }, 90_000);
});
