// Timeouts and connection caps on every listener of a real node (issue 17.5), with small limits so the test is
// quick: a slow body is cut after the request timeout (nothing changes), a connection that never sends headers
// is closed after the headers timeout, an idle keep-alive connection after the keep-alive timeout, the API and
// metrics caps refuse extra connections (and the listener serves again once they close), a database endpoint
// refuses connections beyond its cap, and an idle plain database connection is closed after the idle time.
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { freeDbPort, waitFor, waitForActive } from '../helpers/redis-cli.js';

let node: TestNode;
let dbPort: number;

const LIMITS = {
  requestMs: 3000,
  headersMs: 1500,
  keepAliveMs: 1000,
  apiMax: 8,
  metricsMax: 2,
  dbMax: 3,
  dbIdleSeconds: 2,
};

/** A TLS connection whose handshake completed; `closed` resolves (with ms since the handshake) when the server closes it. */
async function openTls(port: number): Promise<{ socket: tls.TLSSocket; closed: Promise<number>; received: () => string }> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  let start = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('close', () => reject(new Error('closed before the handshake completed')));
  });
  start = Date.now();
  return { socket, closed, received: () => text };
}

/** true when a TLS handshake on the port completes. */
function tlsAccepted(port: number): Promise<boolean> {
  return openTls(port).then(
    (c) => {
      c.socket.destroy();
      return true;
    },
    () => false,
  );
}

/** A plain TCP connection that answers PING, or undefined if the server closed it at once. */
async function openPlain(port: number): Promise<{ socket: net.Socket; closed: Promise<number>; ping(): Promise<string | undefined> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let start = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - start)));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  start = Date.now();
  return {
    socket,
    closed,
    ping: () =>
      new Promise((resolve) => {
        const onClose = (): void => resolve(undefined);
        socket.once('close', onClose);
        socket.once('data', (chunk: Buffer) => {
          socket.off('close', onClose);
          resolve(chunk.toString('utf8'));
        });
        if (!socket.destroyed) socket.write('PING\r\n');
      }),
  };
}

beforeAll(async () => {
  node = await startTestNode({
    args: [
      '--api-request-timeout-ms', String(LIMITS.requestMs),
      '--api-headers-timeout-ms', String(LIMITS.headersMs),
      '--api-keep-alive-timeout-ms', String(LIMITS.keepAliveMs),
      '--api-max-connections', String(LIMITS.apiMax),
      '--metrics-max-connections', String(LIMITS.metricsMax),
    ],
    env: { CERTPLANE_DB_MAX_CONNECTIONS: String(LIMITS.dbMax), CERTPLANE_DB_IDLE_TIMEOUT_SECONDS: String(LIMITS.dbIdleSeconds) },
  });
  dbPort = await freeDbPort();
  const created = await apiRequest(node.port, { method: 'POST', path: '/v1/bdbs', auth: node.admin, body: { name: 'plain', memory_size: 50_000_000, port: dbPort } });
  expect(created.status, created.text).toBe(200);
  await waitForActive(node.port, node.admin, created.json.uid);
});

afterAll(async () => {
  await node?.destroy();
});

describe('REST API limits', () => {
  it('a slow body is cut after the request timeout and the change never happens', async () => {
    const auth = Buffer.from(`${node.admin.email}:${node.admin.password}`).toString('base64');
    const body = JSON.stringify({ password_min_length: 12 });
    const outcome = await expectNoChange(node.dataDir, async () => {
      const c = await openTls(node.port);
      c.socket.write(
        `PUT /v1/cluster HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 2000}\r\n\r\n${body}`,
      );
      // One space every 300 ms keeps the connection busy (never idle) but never finishes the body.
      const drip = setInterval(() => c.socket.writable && c.socket.write(' '), 300);
      const after = await c.closed;
      clearInterval(drip);
      return { after, received: c.received() };
    });
    expect(outcome.after).toBeGreaterThanOrEqual(LIMITS.requestMs - 500);
    expect(outcome.after).toBeLessThan(LIMITS.requestMs + 5000);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 408/);
    expect((await apiRequest(node.port, { path: '/v1/cluster', auth: node.admin })).json.password_min_length).toBe(8);
  });

  it('a connection that never sends request headers is closed after the headers timeout, also with half a request line', async () => {
    const silent = await openTls(node.port);
    const half = await openTls(node.port);
    half.socket.write('GET /v1/cluster HTTP/1.1\r\nHost: x\r\n');
    for (const after of await Promise.all([silent.closed, half.closed])) {
      expect(after).toBeGreaterThanOrEqual(LIMITS.headersMs - 500);
      expect(after).toBeLessThan(LIMITS.headersMs + 5000);
    }
  });

  it('a TCP connection that never finishes the TLS handshake is closed after the headers timeout', async () => {
    const c = await openPlain(node.port);
    const after = await c.closed;
    expect(after).toBeGreaterThanOrEqual(LIMITS.headersMs - 500);
    expect(after).toBeLessThan(LIMITS.headersMs + 5000);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const c = await openTls(node.port);
    c.socket.write('GET /v1/bootstrap HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await waitFor('the response', async () => c.received().includes('\r\n\r\n'));
    const answeredAt = Date.now();
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200/);
    const idle = Date.now() - answeredAt;
    expect(idle).toBeGreaterThanOrEqual(LIMITS.keepAliveMs - 300);
    expect(idle).toBeLessThan(LIMITS.keepAliveMs + 5000);
  });

  it('connections beyond --api-max-connections are refused; the API serves again once they close', async () => {
    const held = [];
    for (let i = 0; i < LIMITS.apiMax; i++) {
      const c = await openTls(node.port);
      c.socket.write('GET /v1/bootstrap HTTP/1.1\r\nHost: x\r\n'); // headers never finished: kept until the timeout
      held.push(c);
    }
    expect(await tlsAccepted(node.port)).toBe(false);
    for (const c of held) c.socket.destroy();
    await waitFor('the API to accept again', async () => (await apiRequest(node.port, { path: '/v1/bootstrap' })).status === 200);
  });
});

describe('metrics limits', () => {
  it('connections beyond --metrics-max-connections are refused, and silent ones are closed after the headers timeout', async () => {
    const held = [await openTls(node.metricsPort), await openTls(node.metricsPort)];
    expect(await tlsAccepted(node.metricsPort)).toBe(false);
    for (const after of await Promise.all(held.map((c) => c.closed))) {
      expect(after).toBeLessThan(LIMITS.headersMs + 5000);
    }
    await waitFor('metrics to accept again', () => tlsAccepted(node.metricsPort));
  });
});

describe('database endpoint limits', () => {
  it('an idle plain database connection is closed after the idle timeout; an active one stays', async () => {
    const idle = await openPlain(dbPort);
    const active = await openPlain(dbPort);
    try {
      expect(await idle.ping()).toBe('+PONG\r\n');
      let inFlight: Promise<unknown> = Promise.resolve();
      const pinger = setInterval(() => {
        inFlight = active.ping();
      }, 500);
      const after = await idle.closed;
      expect(after).toBeGreaterThanOrEqual(LIMITS.dbIdleSeconds * 1000 - 500);
      expect(after).toBeLessThan(LIMITS.dbIdleSeconds * 1000 + 5000);
      clearInterval(pinger);
      // The pinger's last PING answered first: two replies in one chunk would answer both waiting pings.
      await inFlight;
      expect(active.socket.destroyed).toBe(false);
      expect(await active.ping()).toBe('+PONG\r\n');
    } finally {
      // Never left open for the next test, which fills the endpoint up to its cap.
      idle.socket.destroy();
      active.socket.destroy();
    }
  });

  it('connections beyond the per-endpoint cap are refused', async () => {
    const held = [];
    for (let i = 0; i < LIMITS.dbMax; i++) {
      const c = await openPlain(dbPort);
      expect(await c.ping()).toBe('+PONG\r\n');
      held.push(c);
    }
    const extra = await openPlain(dbPort);
    expect(await extra.ping()).toBeUndefined();
    for (const c of held) c.socket.destroy();
    await waitFor('the endpoint to accept again', async () => {
      const c = await openPlain(dbPort);
      const answer = await c.ping();
      c.socket.destroy();
      return answer === '+PONG\r\n';
    });
  });
});
