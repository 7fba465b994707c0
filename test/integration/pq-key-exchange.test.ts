// Post-quantum key exchange on every listener of a real node (issue 11.2, README "Post-quantum key exchange"):
// with OpenSSL 3.5 the REST API, the metrics port and a TLS database endpoint offer X25519MLKEM768 first, so a
// client offering only that hybrid group negotiates it; Debian's `openssl s_client` (OpenSSL 3.0) and
// `redis-cli --tls` still connect with a classical group; the node logs the negotiated group of API and
// database handshakes at debug level; pq_key_exchange false takes the hybrid group off, hot (the PQ-only client
// then fails, classical clients still work); invalid values are refused and change nothing.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { freeDbPort, redisCli, waitFor, waitForActive, writePems } from '../helpers/redis-cli.js';

let node: TestNode;
let dbPort: number;
let dir: string;
let proxyPem: string;

const api = (method: string, path: string, body?: unknown) => apiRequest(node.port, { method, path, body, auth: node.admin });

/** The group a Node TLS client offering only `groups` negotiates on `port`, or the error it gets. */
function nodeClientGroup(port: number, groups: string): Promise<{ group?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ecdhCurve: groups });
    socket.setTimeout(15_000, () => socket.destroy(new Error('timeout')));
    let group: string | undefined;
    // Ended, not destroyed: the server completes its side of the handshake (and logs it) before the close.
    socket.once('secureConnect', () => {
      const info = socket.getEphemeralKeyInfo();
      group = info !== null && 'name' in info ? info.name : 'none';
      socket.end();
    });
    socket.on('data', () => undefined);
    socket.once('close', () => resolve(group === undefined ? { error: 'closed before the handshake' } : { group }));
    socket.once('error', (error) => {
      if (group === undefined) resolve({ error: error.message });
    });
  });
}

/** `openssl s_client -brief` (the system's OpenSSL 3.0): the key-exchange group it reports, or undefined on failure. */
function sClientGroup(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-brief'], { timeout: 15_000 }, (error, _stdout, stderr) => {
      if (error !== null || !stderr.includes('CONNECTION ESTABLISHED')) return resolve(undefined);
      resolve(/Server Temp Key: ([A-Za-z0-9-]+)/.exec(stderr)?.[1] ?? 'unknown');
    });
    child.stdin?.end();
  });
}

function systemOpensslVersion(): Promise<string> {
  return new Promise((resolve) => execFile('openssl', ['version'], (_error, stdout) => resolve(stdout.trim())));
}

beforeAll(async () => {
  node = await startTestNode({ env: { CERTPLANE_LOG_LEVEL: 'debug' } });
  dbPort = await freeDbPort();
  const created = await api('POST', '/v1/bdbs', { name: 'pqdb', memory_size: 50_000_000, port: dbPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' });
  expect(created.status, created.text).toBe(200);
  await waitForActive(node.port, node.admin, created.json.uid);
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-pq-'));
  proxyPem = (await api('GET', '/v1/cluster/certificates')).json.proxy_cert as string;
}, 120_000);

afterAll(async () => {
  await node?.destroy();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('post-quantum key exchange', () => {
  it('runs on an OpenSSL with ML-KEM, against the system OpenSSL 3.0 as the classical client', async () => {
    expect(process.versions.openssl.startsWith('3.5') || Number(process.versions.openssl.split('.')[1]) >= 5).toBe(true);
    expect(await systemOpensslVersion()).toMatch(/^OpenSSL 3\.0\./);
    expect(node.output()).toContain(`"openssl":"${process.versions.openssl}"`);
  });

  it('GET /v1/cluster reports pq_key_exchange, on by default', async () => {
    expect((await api('GET', '/v1/cluster')).json.pq_key_exchange).toBe(true);
  });

  it('a client offering only X25519MLKEM768 negotiates it on the API, metrics and database ports', async () => {
    for (const port of [node.port, node.metricsPort, dbPort]) {
      expect(await nodeClientGroup(port, 'X25519MLKEM768'), `port ${port}`).toEqual({ group: 'X25519MLKEM768' });
    }
    // A client that prefers X25519 but also offers the hybrid group gets what it sent a key share for.
    expect((await nodeClientGroup(node.port, 'X25519:P-256')).group).toBe('X25519');
  });

  it('the debug log names the negotiated group of API and database handshakes', async () => {
    await nodeClientGroup(node.port, 'X25519MLKEM768');
    await nodeClientGroup(dbPort, 'X25519MLKEM768');
    const lines = await waitFor('the handshake debug lines', async () => {
      const found = node
        .output()
        .split('\n')
        .filter((line) => line.includes('TLS handshake') && line.includes('"group":"X25519MLKEM768"'));
      return found.some((l) => l.includes('API TLS handshake')) && found.some((l) => l.includes('database TLS handshake')) ? found : undefined;
    });
    expect(lines.find((l) => l.includes('database TLS handshake'))).toContain(`"port":${dbPort}`);
    expect(lines.find((l) => l.includes('API TLS handshake'))).toContain('"protocol":"TLSv1.3"');
  });

  it("Debian's openssl s_client (3.0) and redis-cli --tls still connect, with a classical group", async () => {
    for (const port of [node.port, node.metricsPort, dbPort]) {
      expect(await sClientGroup(port), `s_client on ${port}`).toBe('X25519');
    }
    const files = await writePems(dir, { 'proxy.pem': proxyPem });
    const before = node.output().length;
    const pong = await redisCli(dbPort, ['PING'], { tls: { cacert: files['proxy.pem'] as string } });
    expect(pong.stdout, pong.stderr).toBe('PONG');
    await waitFor('the redis-cli handshake in the debug log', async () =>
      node.output().slice(before).includes('"group":"X25519"') && node.output().slice(before).includes('database TLS handshake'),
    );
  });

  it('invalid pq_key_exchange values are refused with 400 and change nothing', async () => {
    for (const value of ['false', 'no', 0, 1, null, [], {}]) {
      const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', { pq_key_exchange: value }));
      expect(response.status, `${JSON.stringify(value)}: ${response.text}`).toBe(400);
      expect(response.json.error_code).toBe('invalid_schema');
    }
    expect((await api('GET', '/v1/cluster')).json.pq_key_exchange).toBe(true);
  });

  it('pq_key_exchange false takes the hybrid group off every listener, hot; true brings it back', async () => {
    const off = await api('PUT', '/v1/cluster', { pq_key_exchange: false });
    expect(off.status, off.text).toBe(200);
    expect(off.json.pq_key_exchange).toBe(false);
    expect((await api('GET', '/v1/cluster')).json.pq_key_exchange).toBe(false);
    for (const port of [node.port, node.metricsPort, dbPort]) {
      const refused = await waitFor(`the PQ-only client to be refused on ${port}`, async () => {
        const result = await nodeClientGroup(port, 'X25519MLKEM768');
        return result.error !== undefined ? result : undefined;
      });
      expect(refused.error).toMatch(/handshake failure|alert/i);
      expect(await nodeClientGroup(port, 'X25519'), `X25519 on ${port}`).toEqual({ group: 'X25519' });
      expect(await nodeClientGroup(port, 'P-256'), `P-256 on ${port}`).toEqual({ group: 'prime256v1' });
      expect(await sClientGroup(port), `s_client on ${port}`).toBe('X25519');
    }
    const files = await writePems(dir, { 'proxy.pem': proxyPem });
    expect((await redisCli(dbPort, ['PING'], { tls: { cacert: files['proxy.pem'] as string } })).stdout).toBe('PONG');

    expect((await api('PUT', '/v1/cluster', { pq_key_exchange: true })).status).toBe(200);
    for (const port of [node.port, node.metricsPort, dbPort]) {
      await waitFor(`X25519MLKEM768 again on ${port}`, async () => (await nodeClientGroup(port, 'X25519MLKEM768')).group === 'X25519MLKEM768');
    }
  });
});
