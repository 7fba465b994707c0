// PUT /v1/bdbs/{uid}/{action} and GET /v1/bdbs?fields= end to end against the built server, with redis-cli
// through certplane's proxy: flush empties the real redis-server (which keeps serving), reset_admin_pass changes
// the default user's password (old refused, new accepted), permissions, unknown actions and databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createTestUser } from '../helpers/test-users.js';
import { freeDbPort, redisCli, redisPid, waitFor, waitForActive } from '../helpers/redis-cli.js';
import { freezeProcess } from '../helpers/freeze-process.js';

let node: TestNode;
let dataDir: string;
let dbPort: number;

const api = (method: string, apiPath: string, auth: Credentials = node.admin) => apiRequest(node.port, { method, path: apiPath, auth });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-dbact-'));
  node = await startTestNode({ dataDir });
  dbPort = await freeDbPort();
  const created = await apiRequest(node.port, { method: 'POST', path: '/v1/bdbs', auth: node.admin, body: { name: 'actions-db', memory_size: 50_000_000, port: dbPort } });
  expect(created.status, created.text).toBe(200);
  await waitForActive(node.port, node.admin, 1);
});

afterAll(async () => {
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

describe('database actions', () => {
  it('flush deletes every key of the redis-server, and the endpoint keeps serving', async () => {
    for (let i = 0; i < 20; i++) expect((await redisCli(dbPort, ['SET', `key:${i}`, 'v'])).stdout).toBe('OK');
    expect((await redisCli(dbPort, ['DBSIZE'])).stdout).toBe('20');

    const flushed = await api('PUT', '/v1/bdbs/1/flush');
    expect(flushed.status, flushed.text).toBe(200);
    expect(flushed.json).toMatchObject({ uid: 1, status: 'active' });

    expect((await redisCli(dbPort, ['DBSIZE'])).stdout).toBe('0');
    expect((await redisCli(dbPort, ['SET', 'after-flush', 'yes'])).stdout).toBe('OK');
    expect((await redisCli(dbPort, ['GET', 'after-flush'])).stdout).toBe('yes');
    expect(node.output()).toContain('database flushed');

    // A second flush works too (the request of the first one is gone).
    expect((await api('PUT', '/v1/bdbs/1/flush')).status).toBe(200);
    expect((await redisCli(dbPort, ['DBSIZE'])).stdout).toBe('0');
  });

  it('reset_admin_pass sets a new default-user password on the redis-server; the old one is refused', async () => {
    expect((await redisCli(dbPort, ['PING'])).stdout).toBe('PONG');
    const first = await api('PUT', '/v1/bdbs/1/reset_admin_pass');
    expect(first.status, first.text).toBe(200);
    const password1: string = first.json.authentication_redis_pass;
    expect(password1.length).toBeGreaterThanOrEqual(24);
    expect(first.json.status).toBe('active');
    expect((await api('GET', '/v1/bdbs/1')).json.authentication_redis_pass).toBe(password1);

    expect((await redisCli(dbPort, ['GET', 'x'])).stdout).toContain('NOAUTH');
    expect((await redisCli(dbPort, ['PING'], { pass: password1 })).stdout).toBe('PONG');

    const second = await api('PUT', '/v1/bdbs/1/reset_admin_pass');
    expect(second.status, second.text).toBe(200);
    const password2: string = second.json.authentication_redis_pass;
    expect(password2).not.toBe(password1);
    const old = await redisCli(dbPort, ['AUTH', password1]);
    expect(`${old.stdout} ${old.stderr}`).toMatch(/WRONGPASS/);
    expect((await redisCli(dbPort, ['AUTH', password2])).stdout).toBe('OK');
    expect((await redisCli(dbPort, ['SET', 'k', 'v'], { pass: password2 })).stdout).toBe('OK');
  });

  it('returns the new password only to callers holding view_redis_pass', async () => {
    const viewer = await createTestUser(node, 'db_viewer');
    const got = await api('GET', '/v1/bdbs/1', viewer);
    expect(got.status).toBe(200);
    expect(got.json.authentication_redis_pass).toBe('');
    const member = await createTestUser(node, 'db_member');
    const reset = await api('PUT', '/v1/bdbs/1/reset_admin_pass', member);
    expect(reset.status, reset.text).toBe(200);
    expect(reset.json.authentication_redis_pass).not.toBe('');
    expect((await redisCli(dbPort, ['PING'], { pass: reset.json.authentication_redis_pass })).stdout).toBe('PONG');
  });

  it('refuses callers without update_bdb_with_action, unknown actions and databases, and changes nothing', async () => {
    const viewer = await createTestUser(node, 'db_viewer');
    const clusterViewer = await createTestUser(node, 'cluster_viewer');
    const cases: Array<[string, Credentials, number, string]> = [
      ['/v1/bdbs/1/flush', viewer, 403, 'insufficient_permissions'],
      ['/v1/bdbs/1/reset_admin_pass', viewer, 403, 'insufficient_permissions'],
      ['/v1/bdbs/1/flush', clusterViewer, 403, 'insufficient_permissions'],
      ['/v1/bdbs/1/explode', node.admin, 404, 'not_found'],
      ['/v1/bdbs/99/flush', node.admin, 404, 'not_found'],
      ['/v1/bdbs/99/reset_admin_pass', node.admin, 404, 'not_found'],
      ['/v1/bdbs/abc/flush', node.admin, 400, 'invalid_schema'],
    ];
    for (const [apiPath, auth, status, code] of cases) {
      const response = await expectNoChange(dataDir, () => api('PUT', apiPath, auth));
      expect({ apiPath, status: response.status, code: response.json?.error_code }).toEqual({ apiPath, status, code });
    }
  });

  it('GET /v1/bdbs?fields= returns only the named fields; unknown names are 400 invalid_schema', async () => {
    const some = await api('GET', '/v1/bdbs?fields=uid,name');
    expect(some.status, some.text).toBe(200);
    expect(some.json).toEqual([{ uid: 1, name: 'actions-db' }]);
    const withStatus = await api('GET', '/v1/bdbs?fields=uid%2Cstatus%2Cport&extended=true');
    expect(withStatus.json).toEqual([{ uid: 1, status: 'active', port: dbPort }]);

    expect((await api('GET', '/v1/bdbs?extended=false')).json[0]).toMatchObject({ uid: 1, name: 'actions-db', tls_mode: 'disabled' });
    for (const query of ['fields=uid,colour', 'fields=', 'extended=maybe', 'colour=blue']) {
      const bad = await api('GET', `/v1/bdbs?${query}`);
      expect({ query, status: bad.status, code: bad.json?.error_code }).toEqual({ query, status: 400, code: 'invalid_schema' });
    }
  });
});

describe('database actions when the node cannot run them in time', () => {
  let slow: TestNode;
  let slowDir: string;
  let slowPort: number;
  const slowApi = (method: string, apiPath: string, body?: unknown) => apiRequest(slow.port, { method, path: apiPath, auth: slow.admin, body });

  beforeAll(async () => {
    slowDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-dbact-slow-'));
    slow = await startTestNode({ dataDir: slowDir, args: ['--apply-timeout-ms', '1500'] });
    slowPort = await freeDbPort();
    expect((await slowApi('POST', '/v1/bdbs', { name: 'slow-db', memory_size: 0, port: slowPort })).status).toBe(200);
    await waitForActive(slow.port, slow.admin, 1);
  });

  afterAll(async () => {
    const pid = await redisPid(slowDir, 1);
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await slow?.destroy();
    await rm(slowDir, { recursive: true, force: true });
  });

  it('answers 500 action_failed for a flush that hangs, withdraws an untaken one (409), refuses a non-active database (409 busy)', async () => {
    expect((await redisCli(slowPort, ['SET', 'k', 'v'])).stdout).toBe('OK');
    const pid = (await redisPid(slowDir, 1)) as number;
    await freezeProcess(pid);
    try {
      const hanging = slowApi('PUT', '/v1/bdbs/1/flush');
      await waitFor('the node to take the flush', async () => slow.output().includes('database flush started'));

      // The node is busy with the first flush: the second is not taken in time and is withdrawn.
      const untaken = await slowApi('PUT', '/v1/bdbs/1/flush');
      expect({ status: untaken.status, code: untaken.json?.error_code }).toEqual({ status: 409, code: 'nodes_not_updated' });
      expect(untaken.json.description).toContain('nothing was flushed');

      // A change the node has not applied yet: the database is not active.
      expect((await slowApi('PUT', '/v1/bdbs/1', { memory_size: 10_000_000 })).json.status).toBe('active-change-pending');
      const busy = await slowApi('PUT', '/v1/bdbs/1/reset_admin_pass');
      expect({ status: busy.status, code: busy.json?.error_code }).toEqual({ status: 409, code: 'busy' });

      const failed = await hanging;
      expect({ status: failed.status, code: failed.json?.error_code }).toEqual({ status: 500, code: 'action_failed' });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The flush the node took completes; the withdrawn one never runs.
    await waitFor('the flush to finish', async () => slow.output().includes('database flushed'));
    await waitForActive(slow.port, slow.admin, 1);
    expect((await redisCli(slowPort, ['DBSIZE'])).stdout).toBe('0');
    expect(slow.output().split('database flush started').length - 1).toBe(1);
    expect((await slowApi('PUT', '/v1/bdbs/1/flush')).status).toBe(200);
  });
});
