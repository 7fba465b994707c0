// Databases end to end against the built server: POST/GET/PUT/DELETE /v1/bdbs with real redis-servers behind
// certplane's proxy, the rejection of bad bodies (store and files unchanged), supervision (a killed
// redis-server comes back), connections that survive a kill of certplane itself (the data plane and
// redis-server run on and are adopted by the restarted node), data that survives a restart, and
// password users provisioned from roles_permissions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa } from '../helpers/pki.js';
import { adminRedisCli, freeDbPort, isProcessAlive, redisCli, redisPid, waitFor, waitForActive } from '../helpers/redis-cli.js';

let node: TestNode;
let dataDir: string;
let port: number;
let dbPort: number;

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(port, { method, path: apiPath, body, auth: node.admin });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-db-'));
  node = await startTestNode({ dataDir });
  port = node.port;
  dbPort = await freeDbPort();
});

afterAll(async () => {
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

describe('databases', () => {
  it('creates a database served by a real redis-server behind the proxy, bound to no TCP port', async () => {
    const created = await api('POST', '/v1/bdbs', { name: 'cache-1', memory_size: 100_000_000, port: dbPort });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ uid: 1, name: 'cache-1', port: dbPort, status: 'pending', tls_mode: 'disabled', type: 'redis' });
    expect(created.json.endpoints[0]).toMatchObject({ port: dbPort, addr: ['127.0.0.1'] });
    await waitForActive(port, node.admin, 1);

    expect((await redisCli(dbPort, ['SET', 'greeting', 'hello'])).stdout).toBe('OK');
    expect((await redisCli(dbPort, ['GET', 'greeting'])).stdout).toBe('hello');
    // CONFIG is denied to database clients (domain/database-users.ts DATA_PLANE_DENY); read it as the node.
    expect((await redisCli(dbPort, ['CONFIG', 'GET', 'maxmemory'])).stdout).toContain('NOPERM');
    expect((await adminRedisCli(dataDir, 1, ['CONFIG', 'GET', 'maxmemory'])).stdout).toContain('100000000');

    // redis-server listens on its Unix socket only, in a 0700 directory.
    expect((await adminRedisCli(dataDir, 1, ['CONFIG', 'GET', 'port'])).stdout.split('\n')[1]).toBe('0');
    const dir = path.join(dataDir, 'redis', '1');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, 'redis.conf'))).mode & 0o777).toBe(0o600);

    const list = await api('GET', '/v1/bdbs');
    expect(list.json.map((b: { uid: number }) => b.uid)).toEqual([1]);
    expect((await api('GET', '/v1/bdbs/1')).json.status).toBe('active');
    expect((await api('GET', '/v1/bdbs/99')).json).toMatchObject({ error_code: 'not_found' });
  });

  it('assigns uid and port when omitted, from 12000 up in the database range', async () => {
    const created = await api('POST', '/v1/bdbs', { name: 'auto-port', memory_size: 0 });
    expect(created.status).toBe(200);
    expect(created.json.uid).toBe(2);
    expect(created.json.port).toBeGreaterThanOrEqual(12000);
    expect(created.json.port).toBeLessThanOrEqual(19999);
    await waitForActive(port, node.admin, 2);
    expect((await redisCli(created.json.port, ['PING'])).stdout).toBe('PONG');
    expect((await api('DELETE', '/v1/bdbs/2')).status).toBe(200);
    // Wait until the node has removed it, so later snapshots see a quiet node.
    await waitFor('database 2 to be removed', async () => {
      try {
        await stat(path.join(dataDir, 'redis', '2'));
        return false;
      } catch {
        return (await redisCli(created.json.port, ['PING'], { timeoutMs: 2000 })).stdout !== 'PONG';
      }
    });
  });

  it('rejects bad bodies with the digest error codes and changes nothing', async () => {
    const ca = await createCa();
    const expired = await createCa({ notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const foreign = net.createServer();
    const foreignPort = await freeDbPort();
    await new Promise<void>((resolve) => foreign.listen(foreignPort, '127.0.0.1', resolve));
    try {
      const cases: Array<[string, unknown, number, string]> = [
        ['POST', { memory_size: 1 }, 400, 'missing_db_name'],
        ['POST', { name: 'x' }, 400, 'missing_memory_size'],
        ['POST', { name: 'x', memory_size: 1, port: 9999 }, 406, 'port_unavailable'],
        ['POST', { name: 'x', memory_size: 1, port: 10050 }, 406, 'port_unavailable'],
        ['POST', { name: 'x', memory_size: 1, port: dbPort }, 406, 'port_unavailable'],
        ['POST', { name: 'x', memory_size: 1, port: foreignPort }, 406, 'port_unavailable'],
        ['POST', { name: 'x', memory_size: 1, colour: 'blue' }, 400, 'invalid_schema'],
        ['POST', { name: 'x', memory_size: -1 }, 400, 'invalid_schema'],
        ['POST', { name: 'cache-1', memory_size: 1 }, 409, 'name_already_exists'],
        ['POST', { uid: 1, name: 'y', memory_size: 1 }, 409, 'uid_exists'],
        ['POST', { name: 'x', memory_size: 1, tls_mode: 'enabled', authentication_ssl_client_certs: [{ client_cert: '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n' }] }, 400, 'invalid_certificate'],
        ['POST', { name: 'x', memory_size: 1, tls_mode: 'enabled', authentication_ssl_client_certs: [{ client_cert: expired.certificate }] }, 406, 'certificate_expired'],
        ['POST', { name: 'x', memory_size: 1, tls_mode: 'enabled', authentication_ssl_client_certs: [{ client_cert: ca.certificate }, { client_cert: ca.certificate }] }, 400, 'duplicated_certs'],
        ['POST', { name: 'x', memory_size: 1, tls_mode: 'enabled' }, 400, 'invalid_certificate'],
        ['POST', { name: 'x', memory_size: 1, roles_permissions: [{ role_uid: 99, redis_acl_uid: 1 }] }, 400, 'unknown_role'],
        ['PUT', { port: 20000 }, 406, 'port_unavailable'],
        ['PUT', { port: foreignPort }, 406, 'port_unavailable'],
        ['PUT', { uid: 7 }, 400, 'invalid_schema'],
        ['PUT', { tls_mode: 'sometimes' }, 400, 'invalid_schema'],
        ['PUT', { authentication_ssl_client_certs: [{ client_cert: expired.certificate }], tls_mode: 'enabled' }, 406, 'certificate_expired'],
      ];
      for (const [method, body, status, code] of cases) {
        const response = await expectNoChange(dataDir, () => api(method, method === 'POST' ? '/v1/bdbs' : '/v1/bdbs/1', body));
        expect({ body, status: response.status, code: response.json?.error_code }).toEqual({ body, status, code });
        expect(response.json.description).toBe(response.json.message);
      }
      // dry_run validates only.
      const dry = await expectNoChange(dataDir, () => apiRequest(port, { method: 'POST', path: '/v1/bdbs?dry_run', body: { name: 'dry', memory_size: 1 }, auth: node.admin }));
      expect(dry.status).toBe(200);
      const dryPut = await expectNoChange(dataDir, () => apiRequest(port, { method: 'PUT', path: '/v1/bdbs/1?dry_run', body: { memory_size: 5 }, auth: node.admin }));
      expect(dryPut.json).toMatchObject({ uid: 1, memory_size: 5 });
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it('rejects bad Redis ACLs and roles with the digest error codes and changes nothing', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/redis_acls', { acl: '+@read' }, 400, 'missing_field'],
      ['POST', '/v1/redis_acls', { name: 'x' }, 400, 'missing_field'],
      ['POST', '/v1/redis_acls', { name: 'x', acl: 'on >secret +@all' }, 406, 'invalid_param'],
      ['POST', '/v1/redis_acls', { name: 'Full Access', acl: '+@all' }, 409, 'name_already_exists'],
      ['POST', '/v1/redis_acls', { name: 'x', acl: '+@all', colour: 1 }, 400, 'invalid_schema'],
      ['POST', '/v1/redis_acls/validate', { acl: 'nopass' }, 406, 'invalid_param'],
      ['PUT', '/v1/redis_acls/1', { acl: '+@read' }, 406, 'invalid_param'],
      ['DELETE', '/v1/redis_acls/3', undefined, 406, 'invalid_param'],
      ['DELETE', '/v1/redis_acls/555', undefined, 404, 'not_found'],
      ['POST', '/v1/roles', { name: 'No management' }, 400, 'missing_field'],
      ['POST', '/v1/roles', { name: 'Admin', management: 'none' }, 409, 'name_already_exists'],
      ['POST', '/v1/roles', { name: 'Bad', management: 'root' }, 400, 'invalid_schema'],
      ['PUT', '/v1/roles/1', { name: 'Boss' }, 406, 'invalid_param'],
      ['DELETE', '/v1/roles/4', undefined, 406, 'invalid_param'],
    ];
    for (const [method, apiPath, body, status, code] of cases) {
      const response = await expectNoChange(dataDir, () => api(method, apiPath, body));
      expect({ method, apiPath, body, status: response.status, code: response.json?.error_code }).toEqual({ method, apiPath, body, status, code });
    }
    const valid = await expectNoChange(dataDir, () => api('POST', '/v1/redis_acls/validate', { acl: '+@read +FT.SEARCH ~app:* &chan' }));
    expect(valid.status).toBe(200);
  });

  it('restarts a killed redis-server and serves again', async () => {
    const before = await redisPid(dataDir, 1);
    expect(before).toBeDefined();
    process.kill(before as number, 'SIGKILL');
    const after = await waitFor('a new redis-server', async () => {
      const pid = await redisPid(dataDir, 1);
      return pid !== undefined && pid !== before && (await redisCli(dbPort, ['PING'])).stdout === 'PONG' ? pid : undefined;
    });
    expect(isProcessAlive(after)).toBe(true);
    expect((await redisCli(dbPort, ['SET', 'after-crash', '1'])).stdout).toBe('OK');
    // A SIGKILL loses what was not snapshotted yet; the endpoint serves a fresh server.
    expect((await redisCli(dbPort, ['SET', 'greeting', 'hello'])).stdout).toBe('OK');
    expect(node.output()).toContain('redis-server exited unexpectedly');
  });

  it('provisions password users of bound roles; default_user off requires AUTH', async () => {
    const acl = await api('POST', '/v1/redis_acls', { name: 'app-rw', acl: '+@all ~app:*' });
    expect(acl.status).toBe(200);
    const role = await api('POST', '/v1/roles', { name: 'App', management: 'none' });
    expect(role.status).toBe(200);
    const user = await api('POST', '/v1/users', { name: 'appuser', email: 'app@example.com', password: 'App-Password-1', role_uids: [role.json.uid] });
    expect(user.status).toBe(200);
    const put = await api('PUT', '/v1/bdbs/1', { default_user: false, roles_permissions: [{ role_uid: role.json.uid, redis_acl_uid: acl.json.uid }] });
    expect(put.status).toBe(200);
    expect(put.json.status).toBe('active-change-pending');
    await waitForActive(port, node.admin, 1);

    expect((await redisCli(dbPort, ['GET', 'greeting'])).stdout).toContain('NOAUTH');
    expect((await redisCli(dbPort, ['SET', 'app:1', 'x'], { user: 'appuser', pass: 'App-Password-1' })).stdout).toBe('OK');
    expect((await redisCli(dbPort, ['SET', 'other', 'x'], { user: 'appuser', pass: 'App-Password-1' })).stdout).toContain('NOPERM');
    const wrong = await redisCli(dbPort, ['PING'], { user: 'appuser', pass: 'wrong' });
    expect(`${wrong.stdout} ${wrong.stderr}`).toMatch(/WRONGPASS|NOAUTH/);

    // Roles and ACLs in use cannot be deleted; the binding must go first.
    expect((await api('DELETE', `/v1/redis_acls/${acl.json.uid}`)).status).toBe(406);
    expect((await api('PUT', '/v1/redis_acls/1', { acl: '+@read' })).status).toBe(406);
    expect((await api('GET', '/v1/redis_acls')).json.map((a: { name: string }) => a.name)).toContain('Full Access');

    const back = await api('PUT', '/v1/bdbs/1', { default_user: true, roles_permissions: [] });
    expect(back.status).toBe(200);
    await waitForActive(port, node.admin, 1);
    expect((await redisCli(dbPort, ['GET', 'greeting'])).stdout).toBe('hello');
  });

  it('keeps serving when certplane is killed (data plane and redis-server run on), and the restart adopts them', async () => {
    expect((await redisCli(dbPort, ['SET', 'durable', 'yes'])).stdout).toBe('OK');
    const pid = (await redisPid(dataDir, 1)) as number;
    const open = await rawConnection(dbPort);
    expect(await open.command('PING')).toBe('+PONG');
    await node.kill();

    // Nothing drops while the control plane is gone: the open connection and new ones are served.
    expect(await open.command('SET during-outage yes')).toBe('+OK');
    expect((await redisCli(dbPort, ['GET', 'durable'])).stdout).toBe('yes');
    expect(isProcessAlive(pid)).toBe(true);

    // The directory of a database deleted while certplane was down goes at the next start.
    await mkdir(path.join(dataDir, 'redis', '77'), { mode: 0o700 });
    await writeFile(path.join(dataDir, 'redis', '77', 'dump.rdb'), 'stale');

    node = await startTestNode({ dataDir, port });
    await waitForActive(port, node.admin, 1);
    await expect(stat(path.join(dataDir, 'redis', '77'))).rejects.toThrow();
    expect(node.output()).toContain('reattached to a running data-plane process');
    // The same redis-server, adopted; the connection opened before the kill still works.
    expect(await redisPid(dataDir, 1)).toBe(pid);
    expect(await open.command('GET during-outage')).toBe('$3\r\nyes');
    open.close();
    expect((await redisCli(dbPort, ['GET', 'greeting'])).stdout).toBe('hello');
  });

  it('deletes a database: endpoint closed, redis-server stopped, data removed', async () => {
    const pid = (await redisPid(dataDir, 1)) as number;
    const deleted = await api('DELETE', '/v1/bdbs/1');
    expect(deleted.status).toBe(200);
    expect(deleted.json.status).toBe('delete-pending');
    await waitFor('redis-server to stop', async () => !isProcessAlive(pid));
    await waitFor('the endpoint to close', async () => (await redisCli(dbPort, ['PING'], { timeoutMs: 2000 })).stdout !== 'PONG');
    await waitFor('the data to go', async () => {
      try {
        await readFile(path.join(dataDir, 'redis', '1', 'redis.conf'));
        return false;
      } catch {
        return true;
      }
    });
    expect((await api('GET', '/v1/bdbs/1')).status).toBe(404);
    // The port is free for a new database.
    const again = await api('POST', '/v1/bdbs', { name: 'cache-1', memory_size: 1_000_000, port: dbPort });
    expect(again.status).toBe(200);
    await waitForActive(port, node.admin, again.json.uid);
    expect((await redisCli(dbPort, ['GET', 'durable'])).stdout).toBe('');
  });
});

/** One raw RESP connection kept open across node restarts: inline commands, the reply's first line(s). */
async function rawConnection(dbPort: number): Promise<{ command(line: string): Promise<string>; close(): void }> {
  const socket = net.connect(dbPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    command: (line) =>
      new Promise((resolve, reject) => {
        let reply = '';
        const onData = (chunk: Buffer): void => {
          reply += chunk.toString();
          if (!reply.endsWith('\r\n') || (reply.startsWith('$') && !reply.startsWith('$-1') && reply.split('\r\n').length < 3)) return;
          socket.off('data', onData);
          resolve(reply.trimEnd());
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error(`connection closed (reply so far: ${reply})`)));
        socket.write(`${line}\r\n`);
      }),
    close: () => socket.destroy(),
  };
}
