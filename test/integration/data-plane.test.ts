// The data plane in its own process (README "Data plane") against the built server, real redis-servers and
// real clients: the endpoints run in a detached data-plane process fed over its control socket; a killed
// data-plane process is back within 1 s (logged, counted in metrics) and only its own connections drop; a
// killed control plane closes no connection and the restarted node reattaches; a proxy certificate change
// that a data-plane process cannot apply is a 409; and the faults: garbage instead of a ClientHello,
// half-open connections, a client that stops reading, many idle connections, a redis-server that stops
// answering, SIGKILL of the data plane during a certificate change. None of them affects another endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { selfSigned } from '../helpers/pki.js';
import { freeDbPort, isProcessAlive, redisCli, redisPid, waitFor, waitForActive } from '../helpers/redis-cli.js';
import { freezeProcess } from '../helpers/freeze-process.js';

let node: TestNode;
let dataDir: string;
let plainPort: number;
let tlsPort: number;
const open: Array<{ close(): void }> = [];

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(node.port, { method, path: apiPath, body, auth: node.admin });

interface Conn {
  socket: net.Socket;
  command(line: string): Promise<string>;
  close(): void;
}

/** A raw RESP connection (plain or TLS, any certificate accepted) that sends inline commands. */
async function connect(port: number, useTls: boolean): Promise<Conn> {
  const socket: net.Socket = useTls ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once(useTls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const conn: Conn = {
    socket,
    command: (line) =>
      new Promise((resolve, reject) => {
        let reply = '';
        const timer = setTimeout(() => done(new Error(`no reply to ${line} (so far: ${reply})`)), 10_000);
        const onData = (chunk: Buffer): void => {
          reply += chunk.toString('latin1');
          const lines = reply.split('\r\n');
          if (lines.length < 2) return;
          if (reply.startsWith('$') && !reply.startsWith('$-1') && lines.length < 3) return;
          done(undefined);
        };
        const onClose = (): void => done(new Error(`connection closed (reply so far: ${reply})`));
        const done = (error: Error | undefined): void => {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.off('close', onClose);
          if (error === undefined) resolve(reply.trimEnd());
          else reject(error);
        };
        if (socket.destroyed) {
          done(new Error('connection closed before the command'));
          return;
        }
        socket.on('data', onData);
        socket.once('close', onClose);
        socket.write(`${line}\r\n`);
      }),
    close: () => socket.destroy(),
  };
  open.push(conn);
  return conn;
}

function dataPlanePid(worker = 0): number {
  return Number(readFileSync(path.join(dataDir, 'data-plane', `data-plane-${worker}.pid`), 'utf8').trim());
}

/** VmRSS of a process, in bytes. */
function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(line.replace(/\D+/g, '')) * 1024;
}

/** Whether a process may raise priorities: CAP_SYS_NICE (bit 23) in its effective capabilities. */
function hasCapSysNice(pid: number): boolean {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('CapEff:')) ?? '';
  return (BigInt(`0x${line.replace('CapEff:', '').trim() || '0'}`) >> 23n) & 1n ? true : false;
}

/** The nice value of a process's main thread (/proc/<pid>/stat field 19). */
function niceValue(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

function processGroup(pid: number): number {
  // /proc/<pid>/stat: pid (comm) state ppid pgrp …; comm may contain spaces, so split after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function listeningPids(port: number): Promise<string> {
  return new Promise((resolve) => execFile('ss', ['-ltnpH', `sport = :${port}`], (_error, stdout) => resolve(stdout)));
}

function scrapeMetrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** The fingerprint of the certificate a TLS endpoint serves to a new connection (the handshake proves its key). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timeout')));
  });
}

async function waitServing(port: number, useTls: boolean, timeoutMs = 20_000): Promise<void> {
  await waitFor(`port ${port} to serve`, async () => {
    const conn = await connect(port, useTls);
    const pong = await conn.command('PING');
    conn.close();
    return pong === '+PONG';
  }, timeoutMs, 5);
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-dp-'));
  node = await startTestNode({ dataDir });
  plainPort = await freeDbPort();
  tlsPort = await freeDbPort();
  expect((await api('POST', '/v1/bdbs', { uid: 1, name: 'plain-db', memory_size: 0, port: plainPort })).status).toBe(200);
  expect((await api('POST', '/v1/bdbs', { uid: 2, name: 'tls-db', memory_size: 0, port: tlsPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' })).status).toBe(200);
  // A password user on the plain database: its logins are checked by the node, over the control socket.
  const acl = await api('POST', '/v1/redis_acls', { name: 'dp-all', acl: '+@all ~*' });
  const role = await api('POST', '/v1/roles', { name: 'DpApp', management: 'none' });
  const user = await api('POST', '/v1/users', { name: 'dpuser', email: 'dp@example.com', password: 'Dp-Password-1', role_uids: [role.json.uid] });
  expect(user.status, `${acl.text} ${role.text} ${user.text}`).toBe(200);
  expect((await api('PUT', '/v1/bdbs/1', { roles_permissions: [{ role_uid: role.json.uid, redis_acl_uid: acl.json.uid }] })).status).toBe(200);
  await waitForActive(node.port, node.admin, 1);
  await waitForActive(node.port, node.admin, 2);
}, 120_000);

afterAll(async () => {
  for (const conn of open) conn.close();
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe('the data plane in its own process', () => {
  it('serves every endpoint from a detached data-plane process, not from the node', async () => {
    const pid = dataPlanePid();
    expect(isProcessAlive(pid)).toBe(true);
    expect(pid).not.toBe(node.process.pid);
    expect(processGroup(pid)).toBe(pid);
    expect(processGroup(pid)).not.toBe(processGroup(node.process.pid as number));
    expect(await listeningPids(plainPort)).toContain(`pid=${pid},`);
    expect(await listeningPids(tlsPort)).toContain(`pid=${pid},`);
    expect(await listeningPids(plainPort)).not.toContain(`pid=${node.process.pid},`);
    // The control socket and its directory are the node's alone.
    const { stat } = await import('node:fs/promises');
    expect((await stat(path.join(dataDir, 'data-plane'))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dataDir, 'data-plane', 'control-0.sock'))).mode & 0o777).toBe(0o600);
    const conn = await connect(tlsPort, true);
    expect(await conn.command('SET k v')).toBe('+OK');
    conn.close();
    // The restart counter is there from the start.
    expect(await scrapeMetrics(node.metricsPort)).toMatch(/certplane_data_plane_restarts_total\{[^}]*\} 0/);
  });

  it('runs the data plane and the redis-servers 5 nice levels above the node when it may (CAP_SYS_NICE), else at the node\'s', async () => {
    const nodePid = node.process.pid as number;
    const nodeNice = niceValue(nodePid);
    const privileged = hasCapSysNice(nodePid);
    const expected = privileged ? Math.max(-20, nodeNice - 5) : nodeNice;
    expect(niceValue(dataPlanePid())).toBe(expected);
    expect(niceValue((await redisPid(dataDir, 1)) as number)).toBe(expected);
    if (!privileged) expect(node.output()).toContain('data-plane process keeps the node');
  });

  it('refuses garbage instead of a ClientHello without disturbing open connections', async () => {
    const kept = await connect(tlsPort, true);
    for (const garbage of [Buffer.from('PING\r\n'), Buffer.alloc(4096, 0x16), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) {
      const socket = net.connect(tlsPort, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(garbage);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    }
    expect(await kept.command('GET k')).toBe('$1\r\nv');
    await waitFor('the refusal in the log', async () => node.output().includes('TLS handshake failed'));
    kept.close();
  });

  it('handles half-open connections: replies still reach a client that closed its sending side, silent ones go', async () => {
    const socket = net.connect(plainPort, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end('SET half open\r\nGET half\r\n');
    await closed;
    expect(reply).toBe('+OK\r\n$4\r\nopen\r\n');
    // A TLS client that half-closes before finishing its handshake is closed by the proxy (no leak).
    const raw = net.connect(tlsPort, '127.0.0.1');
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    raw.on('error', () => undefined);
    const shutAt = Date.now();
    raw.end();
    await rawClosed;
    // At once, not after the handshake timeout (10 s).
    expect(Date.now() - shutAt).toBeLessThan(3000);
    expect((await redisCli(plainPort, ['GET', 'half'])).stdout).toBe('open');
  });

  it('keeps memory flat while a client reads nothing, and other clients are served meanwhile', async () => {
    const pid = dataPlanePid();
    const value = 'x'.repeat(512 * 1024);
    const setup = await connect(plainPort, false);
    // Inline commands stop at 64 KiB in redis: the value goes as a RESP bulk string.
    expect(await setup.command(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${value.length}\r\n${value}`)).toBe('+OK');
    setup.close();
    const before = rss(pid);
    // The stalled client asks for 40 × 512 KiB = 20 MiB of replies and never reads one.
    const stalled = net.connect(plainPort, '127.0.0.1');
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.pause();
    stalled.write('GET big\r\n'.repeat(40));
    const other = await connect(plainPort, false);
    const writer = await connect(tlsPort, true);
    for (let i = 0; i < 200; i++) {
      expect(await writer.command(`SET w${i % 10} ${i}`)).toBe('+OK');
      if (i % 20 === 0) expect(await other.command('PING')).toBe('+PONG');
    }
    const grown = rss(pid) - before;
    // The proxy holds a few socket buffers for the stalled client, not its 20 MiB of replies.
    expect(grown).toBeLessThan(12 * 1024 * 1024);
    stalled.destroy();
    other.close();
    writer.close();
  });

  it('holds many idle connections without slowing another endpoint', async () => {
    // 2 000 plain ones here, beside this file's other tests; 10 000 TLS ones in idle-connections.test.ts.
    const count = 2000;
    const pid = dataPlanePid();
    const before = rss(pid);
    const idle: net.Socket[] = [];
    for (let i = 0; i < count; i += 100) {
      idle.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () =>
            new Promise<net.Socket>((resolve, reject) => {
              const socket = net.connect(plainPort, '127.0.0.1', () => resolve(socket));
              socket.once('error', reject);
            }),
          ),
        )),
      );
    }
    const probe = await connect(tlsPort, true);
    const started = Date.now();
    for (let i = 0; i < 100; i++) expect(await probe.command('PING')).toBe('+PONG');
    const perPing = (Date.now() - started) / 100;
    expect(perPing).toBeLessThan(50);
    const perThousand = (rss(pid) - before) / (count / 1000);
    process.stdout.write(`data plane: ${Math.round(perThousand / 1024)} KiB RSS per 1000 idle plain connections, ${perPing.toFixed(2)} ms per PING beside them\n`);
    // The idle connections are all still served.
    const last = idle[idle.length - 1] as net.Socket;
    const pong = new Promise<string>((resolve) => last.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    last.write('PING\r\n');
    expect(await pong).toBe('+PONG\r\n');
    for (const socket of idle) socket.destroy();
    probe.close();
  }, 120_000);

  it('keeps other endpoints serving while a redis-server stops answering (SIGSTOP)', async () => {
    const pid = (await redisPid(dataDir, 1)) as number;
    const stuck = await connect(plainPort, false);
    await freezeProcess(pid);
    try {
      const pending = stuck.command('PING');
      pending.catch(() => undefined);
      const other = await connect(tlsPort, true);
      for (let i = 0; i < 20; i++) expect(await other.command('PING')).toBe('+PONG');
      other.close();
      process.kill(pid, 'SIGCONT');
      // The stopped server's clients get their replies once it runs again.
      expect(await pending).toBe('+PONG');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    stuck.close();
  });

  it('restarts a killed data-plane process within 1 s, logs and counts it; the node and other endpoints are untouched', async () => {
    const pid = dataPlanePid();
    const conn = await connect(plainPort, false);
    const apiBefore = await api('GET', '/v1/bdbs/1');
    expect(apiBefore.status).toBe(200);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitServing(plainPort, false, 5000);
    const back = Date.now() - killedAt;
    await waitServing(tlsPort, true, 5000);
    process.stdout.write(`data plane back ${back} ms after SIGKILL\n`);
    expect(back).toBeLessThan(1000);
    expect(dataPlanePid()).not.toBe(pid);
    // The replacement (the promoted spare) has the data plane's priority too.
    const nodeNice = niceValue(node.process.pid as number);
    expect(niceValue(dataPlanePid())).toBe(hasCapSysNice(node.process.pid as number) ? Math.max(-20, nodeNice - 5) : nodeNice);
    // Its own connections dropped (they lived in the killed process).
    await expect(conn.command('PING')).rejects.toThrow(/closed/);
    await waitFor('the restart in the log', async () => node.output().includes('data-plane process restarted'));
    expect(await scrapeMetrics(node.metricsPort)).toMatch(/certplane_data_plane_restarts_total\{[^}]*\} 1/);
    expect((await api('GET', '/v1/bdbs/2')).json.status).toBe('active');
  });

  it('keeps open plain and TLS connections through a control-plane restart; password logins are refused while it is down', async () => {
    const plain = await connect(plainPort, false);
    const secure = await connect(tlsPort, true);
    const pid = dataPlanePid();
    await node.kill();
    expect(await plain.command('SET during outage')).toBe('+OK');
    expect(await secure.command('SET during tls')).toBe('+OK');
    expect(await secure.command('GET during')).toBe('$3\r\ntls');
    // No control plane to check a password: that login is refused (the connection closed), nothing else is.
    const login = await connect(plainPort, false);
    await expect(login.command('AUTH dpuser Dp-Password-1')).rejects.toThrow(/closed/);
    node = await startTestNode({ dataDir, port: node.port, metricsPort: node.metricsPort });
    await waitForActive(node.port, node.admin, 1);
    await waitForActive(node.port, node.admin, 2);
    expect(dataPlanePid()).toBe(pid);
    expect(node.output()).toContain('reattached to a running data-plane process');
    expect(await plain.command('PING')).toBe('+PONG');
    expect(await secure.command('PING')).toBe('+PONG');
    // The reattached node checks passwords again.
    expect(await plain.command('AUTH dpuser Dp-Password-1')).toBe('+OK');
    plain.close();
    secure.close();
  }, 120_000);

  it('restarts the control plane on SIGUSR2 without closing a connection (same data plane, same redis-server)', async () => {
    const secure = await connect(tlsPort, true);
    const pid = dataPlanePid();
    const redis = await redisPid(dataDir, 2);
    const exited = new Promise((resolve) => node.process.once('exit', resolve));
    node.process.kill('SIGUSR2');
    await exited;
    expect(await secure.command('SET planned restart')).toBe('+OK');
    node = await startTestNode({ dataDir, port: node.port, metricsPort: node.metricsPort });
    await waitForActive(node.port, node.admin, 2);
    expect(dataPlanePid()).toBe(pid);
    expect(await redisPid(dataDir, 2)).toBe(redis);
    expect(await secure.command('GET planned')).toBe('$7\r\nrestart');
    secure.close();
  }, 120_000);

  it('counts a proxy certificate the data plane cannot take as not applied (409), then converges', async () => {
    const pid = dataPlanePid();
    const next = await selfSigned({ cn: 'proxy-next', sans: ['IP:127.0.0.1'], freshKey: true });
    await freezeProcess(pid);
    let put;
    try {
      put = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: next.certificate, key: next.key }], allow_identity_change: true });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(put.status, put.text).toBe(409);
    expect(put.json.error_code).toBe('nodes_not_updated');
    await waitFor('the new certificate on the endpoint', async () => (await servedFingerprint(tlsPort)) === next.x509.fingerprint256, 40_000);
  }, 120_000);

  it('never serves a certificate without its key when the data plane is killed during a certificate change', async () => {
    for (let round = 0; round < 3; round++) {
      const next = await selfSigned({ cn: `proxy-round-${round}`, sans: ['IP:127.0.0.1'], freshKey: true });
      const before = await servedFingerprint(tlsPort);
      const put = api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: next.certificate, key: next.key }], allow_identity_change: true });
      await new Promise((resolve) => setTimeout(resolve, [50, 150, 400][round]));
      process.kill(dataPlanePid(), 'SIGKILL');
      const status = (await put).status;
      expect([200, 409]).toContain(status);
      // Every handshake completes (the server proved it holds the key of what it serves): old or new, never a mix.
      await waitServing(tlsPort, true, 5000);
      const served = await servedFingerprint(tlsPort);
      expect([before, next.x509.fingerprint256]).toContain(served);
      await waitFor('the new certificate after the restart', async () => (await servedFingerprint(tlsPort)) === next.x509.fingerprint256, 40_000);
    }
  }, 180_000);

  it('leaves nothing running once the node is gone for good (data dir removed)', async () => {
    const dp = dataPlanePid();
    const redis = [(await redisPid(dataDir, 1)) as number, (await redisPid(dataDir, 2)) as number];
    await node.kill();
    expect(isProcessAlive(dp)).toBe(true);
    // The orphaned data plane starts its own log file in the directory meanwhile: rm retries on ENOTEMPTY.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    await waitFor('the data plane and its redis-servers to exit', async () => !isProcessAlive(dp) && redis.every((pid) => !isProcessAlive(pid)), 20_000);
  }, 60_000);
});

describe('several data-plane processes (SO_REUSEPORT)', () => {
  let multi: TestNode;
  let port: number;

  beforeAll(async () => {
    multi = await startTestNode({ env: { CERTPLANE_DATA_PLANE_PROCESSES: '2' } });
    port = await freeDbPort();
    expect((await apiRequest(multi.port, { method: 'POST', path: '/v1/bdbs', body: { uid: 1, name: 'shared', memory_size: 0, port }, auth: multi.admin })).status).toBe(200);
    await waitForActive(multi.port, multi.admin, 1);
  }, 120_000);

  afterAll(async () => {
    await multi?.destroy();
  });

  it('spreads one port over both processes; killing one drops only its own connections', async () => {
    const pids = [0, 1].map((w) => Number(readFileSync(path.join(multi.dataDir, 'data-plane', `data-plane-${w}.pid`), 'utf8').trim()));
    const listening = await listeningPids(port);
    for (const pid of pids) expect(listening).toContain(`pid=${pid},`);
    const conns: Conn[] = [];
    for (let i = 0; i < 16; i++) conns.push(await connect(port, false));
    for (const conn of conns) expect(await conn.command('PING')).toBe('+PONG');
    process.kill(pids[0] as number, 'SIGKILL');
    const outcomes = await Promise.all(conns.map((conn) => conn.command('PING').then(() => 'kept', () => 'dropped')));
    // The kernel spread the 16 connections over both processes: some dropped, the other process's kept.
    expect(outcomes).toContain('kept');
    expect(outcomes).toContain('dropped');
    await waitFor('both processes again', async () => {
      const now = await listeningPids(port);
      const next = Number(await readFile(path.join(multi.dataDir, 'data-plane', 'data-plane-0.pid'), 'utf8'));
      return next !== pids[0] && now.includes(`pid=${next},`) && now.includes(`pid=${pids[1]},`);
    });
    for (const conn of conns) conn.close();
  }, 60_000);
});
