// TLS policy on every listener of a real node (issue 17.6, 10.8): `openssl s_client` probes the REST API, the
// metrics port and a TLS database endpoint. At defaults only ECDHE with AEAD is accepted for TLS 1.2 (static
// RSA and CBC-SHA1 refused), TLS 1.1 is refused, min_control_TLS_version applies to the metrics port too, and the
// cluster's cipher settings (control_cipher_suites, data_cipher_list, data_cipher_suites_tls_1_3) are validated,
// applied hot to new handshakes, and leave open connections working. A control Node TLS server with Node's
// defaults accepts the same weak probes, so a refusal is the listener's doing, not the client's.
import { execFile } from 'node:child_process';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { freeDbPort, waitFor, waitForActive } from '../helpers/redis-cli.js';
import { selfSigned } from '../helpers/pki.js';

let node: TestNode;
let dbPort: number;

/** true when `openssl s_client` completes a handshake with these options. */
function handshakes(port: number, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-brief', ...args], { timeout: 15_000 }, (error, _stdout, stderr) => {
      resolve(error === null && stderr.includes('CONNECTION ESTABLISHED'));
    });
    child.stdin?.end();
  });
}

// The client side allows everything it is asked for (Debian's openssl.cnf would refuse TLS 1.1 and SHA-1 itself).
const WEAK = (cipher: string): string[] => ['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`];
const TLS12 = (cipher: string): string[] => ['-tls1_2', '-cipher', cipher];
const TLS13 = (suite: string): string[] => ['-tls1_3', '-ciphersuites', suite];
const TLS11 = ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'];

const api = (method: string, path: string, body?: unknown) => apiRequest(node.port, { method, path, body, auth: node.admin });

/** A TLS connection to the database that stays open: PING → +PONG. */
async function openDbConnection(cipher?: string): Promise<{ ping(): Promise<string>; close(): void }> {
  const socket = tls.connect({ host: '127.0.0.1', port: dbPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...(cipher === undefined ? {} : { ciphers: cipher }) });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return {
    ping: () =>
      new Promise((resolve, reject) => {
        socket.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
        socket.once('error', reject);
        socket.write('PING\r\n');
      }),
    close: () => socket.destroy(),
  };
}

beforeAll(async () => {
  node = await startTestNode();
  dbPort = await freeDbPort();
  const created = await api('POST', '/v1/bdbs', { name: 'tlsdb', memory_size: 50_000_000, port: dbPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' });
  expect(created.status, created.text).toBe(200);
  await waitForActive(node.port, node.admin, created.json.uid);
});

afterAll(async () => {
  await node?.destroy();
});

describe('TLS policy on every listener', () => {
  it('a server with Node defaults accepts the weak probes (the probes themselves work)', async () => {
    const cert = await selfSigned({ cn: 'localhost' });
    const server = tls.createServer({ cert: cert.certificate, key: cert.key, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await handshakes(port, WEAK('AES128-SHA'))).toBe(true);
      expect(await handshakes(port, WEAK('ECDHE-RSA-AES128-SHA'))).toBe(true);
      expect(await handshakes(port, TLS11)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('defaults: TLS 1.2 only with ECDHE and AEAD, no TLS 1.1, on the API, metrics and database ports', async () => {
    for (const port of [node.port, node.metricsPort, dbPort]) {
      expect(await handshakes(port, WEAK('AES128-SHA')), `static RSA on ${port}`).toBe(false);
      expect(await handshakes(port, WEAK('AES128-GCM-SHA256')), `static RSA GCM on ${port}`).toBe(false);
      expect(await handshakes(port, WEAK('ECDHE-RSA-AES128-SHA')), `CBC-SHA1 on ${port}`).toBe(false);
      expect(await handshakes(port, WEAK('ECDHE-RSA-AES128-SHA256')), `CBC-SHA256 on ${port}`).toBe(false);
      expect(await handshakes(port, TLS11), `TLS 1.1 on ${port}`).toBe(false);
      expect(await handshakes(port, TLS12('ECDHE-RSA-AES128-GCM-SHA256')), `ECDHE-GCM on ${port}`).toBe(true);
      expect(await handshakes(port, TLS12('ECDHE-RSA-CHACHA20-POLY1305')), `ECDHE-ChaCha on ${port}`).toBe(true);
      expect(await handshakes(port, TLS13('TLS_AES_128_GCM_SHA256')), `TLS 1.3 on ${port}`).toBe(true);
    }
  });

  it('GET /v1/cluster reports the cipher settings with the capture’s names and types', async () => {
    const cluster = (await api('GET', '/v1/cluster')).json;
    expect(cluster.control_cipher_suites).toBe('ECDHE+AESGCM:ECDHE+CHACHA20');
    expect(cluster.control_cipher_suites_tls_1_3).toBe('TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256');
    expect(cluster.data_cipher_list).toBe('ECDHE+AESGCM:ECDHE+CHACHA20');
    expect(cluster.data_cipher_suites_tls_1_3).toEqual([]);
  });

  it('min_control_TLS_version 1.3 applies to the metrics port and the API at once; 1.2 again restores it', async () => {
    expect((await api('PUT', '/v1/cluster', { min_control_TLS_version: '1.3' })).status).toBe(200);
    await waitFor('metrics to refuse TLS 1.2', async () => !(await handshakes(node.metricsPort, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))));
    expect(await handshakes(node.port, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))).toBe(false);
    expect(await handshakes(node.metricsPort, TLS13('TLS_AES_256_GCM_SHA384'))).toBe(true);
    expect(await handshakes(dbPort, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))).toBe(true); // data plane has its own minimum
    expect((await api('PUT', '/v1/cluster', { min_control_TLS_version: '1.2' })).status).toBe(200);
    await waitFor('metrics to accept TLS 1.2', () => handshakes(node.metricsPort, TLS12('ECDHE-RSA-AES128-GCM-SHA256')));
  });

  it('control_cipher_suites restricts new API and metrics handshakes, hot; a weak suite named in it stays off', async () => {
    const put = await api('PUT', '/v1/cluster', { control_cipher_suites: 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-RSA-AES128-SHA' });
    expect(put.status, put.text).toBe(200);
    expect(put.json.control_cipher_suites).toBe('ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-RSA-AES128-SHA');
    for (const port of [node.port, node.metricsPort]) {
      expect(await handshakes(port, TLS12('ECDHE-RSA-AES128-GCM-SHA256')), `AES128-GCM on ${port}`).toBe(false);
      expect(await handshakes(port, TLS12('ECDHE-RSA-AES256-GCM-SHA384')), `AES256-GCM on ${port}`).toBe(true);
      expect(await handshakes(port, WEAK('AES128-SHA')), `floor on ${port}`).toBe(false);
      expect(await handshakes(port, WEAK('ECDHE-RSA-AES128-SHA')), `floor on ${port}`).toBe(false);
    }
    expect(await handshakes(dbPort, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))).toBe(true); // data plane: data_cipher_list
    expect((await api('PUT', '/v1/cluster', { control_cipher_suites: 'ECDHE+AESGCM:ECDHE+CHACHA20' })).status).toBe(200);
    expect(await handshakes(node.port, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))).toBe(true);
  });

  it('data_cipher_list and data_cipher_suites_tls_1_3 apply to new database handshakes; an open connection keeps working', async () => {
    const open = await openDbConnection('ECDHE-RSA-AES128-GCM-SHA256');
    expect(await open.ping()).toBe('+PONG\r\n');
    const put = await api('PUT', '/v1/cluster', { data_cipher_list: 'ECDHE-RSA-AES256-GCM-SHA384', data_cipher_suites_tls_1_3: 'TLS_AES_256_GCM_SHA384' });
    expect(put.status, put.text).toBe(200);
    expect(put.json.data_cipher_suites_tls_1_3).toEqual(['TLS_AES_256_GCM_SHA384']);
    await waitFor('the database to refuse AES128-GCM', async () => !(await handshakes(dbPort, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))));
    expect(await handshakes(dbPort, TLS12('ECDHE-RSA-AES256-GCM-SHA384'))).toBe(true);
    expect(await handshakes(dbPort, TLS13('TLS_AES_128_GCM_SHA256'))).toBe(false);
    expect(await handshakes(dbPort, TLS13('TLS_AES_256_GCM_SHA384'))).toBe(true);
    expect(await handshakes(node.port, TLS12('ECDHE-RSA-AES128-GCM-SHA256'))).toBe(true); // control plane untouched
    expect(await open.ping()).toBe('+PONG\r\n');
    open.close();
    const back = await api('PUT', '/v1/cluster', { data_cipher_list: 'ECDHE+AESGCM:ECDHE+CHACHA20', data_cipher_suites_tls_1_3: [] });
    expect(back.status, back.text).toBe(200);
    await waitFor('the database to accept AES128-GCM again', () => handshakes(dbPort, TLS12('ECDHE-RSA-AES128-GCM-SHA256')));
  });

  it('refuses cipher settings OpenSSL cannot use, weak-only lists, @SECLEVEL, unknown TLS 1.3 suites and a changed read-only list; nothing changes', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ control_cipher_suites: 'NOT-A-CIPHER' }, 'invalid_param'],
      [{ control_cipher_suites: 'AES128-SHA:ECDHE-RSA-AES128-SHA' }, 'invalid_param'],
      [{ data_cipher_list: 'kRSA' }, 'invalid_param'],
      [{ data_cipher_list: 'ECDHE+AESGCM:@SECLEVEL=0' }, 'invalid_param'],
      [{ data_cipher_list: 'ECDHE+AESGCM; rm -rf /' }, 'invalid_param'],
      [{ control_cipher_suites: 'TLS_AES_128_GCM_SHA256' }, 'invalid_param'],
      [{ data_cipher_suites_tls_1_3: ['TLS_AES_128_CCM_8_SHA256'] }, 'invalid_param'],
      [{ data_cipher_suites_tls_1_3: ['nonsense'] }, 'invalid_param'],
      [{ control_cipher_suites_tls_1_3: 'TLS_AES_128_GCM_SHA256' }, 'invalid_schema'],
      [{ control_cipher_suites: 42 }, 'invalid_schema'],
    ];
    for (const [body, code] of bad) {
      const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', body));
      expect(response.status, JSON.stringify(body)).toBe(code === 'invalid_param' ? 406 : 400);
      expect(response.json.error_code, JSON.stringify(body)).toBe(code);
    }
    // The read-only TLS 1.3 list sent back unchanged (GET-edit-PUT) is fine.
    const cluster = (await api('GET', '/v1/cluster')).json;
    expect((await api('PUT', '/v1/cluster?dry_run=1', cluster)).status).toBe(200);
  });
});
