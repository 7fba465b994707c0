// The trail shows who did what (issue 17.8), for what reaches a node other than through the REST API's login:
// refused password logins through a database endpoint (redis-cli through certplane's proxy) are WARNING events
// in GET /v1/logs naming the claimed user, the database and the time, rate-limited (one per database and user per
// minute however many guesses) and never carrying the password; a lockout reached through a database is a
// user_locked event as on the REST API. PUT /v1/bdbs/{uid}/flush and POST /v1/nodes/{uid}/actions/remove are
// events with actor and target. Runs on a real etcd: one node first, a second one joins (and dies) for the
// removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { freeDbPort, redisCli, waitFor, waitForActive } from '../helpers/redis-cli.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };
const LEASE_SECONDS = 3;
const USER_PASSWORD = 'Dbtrail-User-Password-1';
const WRONG = ['Wrong-Db-Guess-1', 'Wrong-Db-Guess-2', 'Wrong-Db-Guess-3'];

let etcd: TestEtcd;
let node: TestNode;
let second: TestNode | undefined;
let dbPort: number;
let bdbUid: number;
let userUid: number;

const clusterArgs = (index: number): string[] => ['--store', etcd.storeUrl, '--node-name', `trail-node-${index}`, '--lease-ttl-seconds', String(LEASE_SECONDS)];

async function api(method: string, path: string, body?: unknown, target: TestNode = node): Promise<ApiResponse> {
  return apiRequest(target.port, { method, path, body, auth: admin }, target.address);
}

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const response = await api(method, path, body);
  expect(response.status, `${method} ${path}: ${response.text}`).toBe(200);
  return response.json;
}

type LogEvent = Record<string, any>;

async function logs(): Promise<{ events: LogEvent[]; text: string }> {
  const response = await api('GET', '/v1/logs?limit=10000');
  expect(response.status, response.text).toBe(200);
  return { events: response.json as LogEvent[], text: response.text };
}

async function findEvents(match: Record<string, unknown>): Promise<LogEvent[]> {
  return (await logs()).events.filter((e) => Object.entries(match).every(([k, v]) => e[k] === v));
}

beforeAll(async () => {
  etcd = await startEtcd();
  node = await startTestNode({ address: '127.0.0.1', admin, args: clusterArgs(1) });
  const acl = await ok('POST', '/v1/redis_acls', { name: 'trail-all', acl: '+@all ~*' });
  const role = await ok('POST', '/v1/roles', { name: 'Trail Apps', management: 'none' });
  const user = await ok('POST', '/v1/users', { name: 'dbtrail', email: 'dbtrail@example.com', password: USER_PASSWORD, role_uids: [role.uid] });
  userUid = user.uid as number;
  dbPort = await freeDbPort();
  const bdb = await ok('POST', '/v1/bdbs', { name: 'trail-db', memory_size: 0, port: dbPort, roles_permissions: [{ role_uid: role.uid, redis_acl_uid: acl.uid }] });
  bdbUid = bdb.uid as number;
  await waitForActive(node.port, admin, bdbUid);
  expect((await redisCli(dbPort, ['ACL', 'WHOAMI'], { user: 'dbtrail', pass: USER_PASSWORD })).stdout).toBe('dbtrail');
}, 120_000);

afterAll(async () => {
  await second?.destroy();
  await node?.destroy();
  await etcd?.destroy();
});

describe('refused database logins', () => {
  it('are one WARNING event per database and claimed user however many wrong passwords, naming user, database and time', async () => {
    for (const password of WRONG) {
      const result = await redisCli(dbPort, ['ACL', 'WHOAMI'], { user: 'dbtrail', pass: password });
      expect(`${result.stdout} ${result.stderr}`).toMatch(/WRONGPASS|NOAUTH/);
    }
    // A user that does not exist is refused the same way, and recorded apart.
    await redisCli(dbPort, ['PING'], { user: 'nobody-here', pass: 'Nobody-Guess-1' });
    const refused = await waitFor('the refused-login events', async () => {
      const found = await findEvents({ type: 'database_login_refused' });
      return found.length >= 2 ? found : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // late writes would show up now
    const all = await findEvents({ type: 'database_login_refused' });
    expect(all).toHaveLength(2);
    const forUser = all.find((e) => e.user_name === 'dbtrail');
    expect(forUser).toMatchObject({
      severity: 'WARNING',
      target_type: 'bdb',
      target_uid: bdbUid,
      user_uid: userUid,
      error_code: 'wrong_password',
      refused_attempts: 1,
      remote_address: expect.stringContaining('127.0.0.1'),
      time: expect.any(String),
    });
    expect(refused.find((e) => e.user_name === 'nobody-here')).toMatchObject({ target_uid: bdbUid, error_code: 'unknown_user' });
    expect(all.find((e) => e.user_name === 'nobody-here')).not.toHaveProperty('user_uid');
  }, 60_000);

  it('makes a lockout reached through a database a user_locked event, once', async () => {
    expect(await findEvents({ type: 'user_locked', target_uid: userUid })).toEqual([]);
    for (let i = 0; i < 4; i++) await redisCli(dbPort, ['PING'], { user: 'dbtrail', pass: `Wrong-Db-Guess-More-${i}` });
    const [locked, ...more] = await waitFor('the lockout event', async () => {
      const found = await findEvents({ type: 'user_locked', target_uid: userUid });
      return found.length > 0 ? found : undefined;
    });
    expect(more).toEqual([]);
    expect(locked).toMatchObject({ severity: 'WARNING', target_type: 'user', target_name: 'dbtrail@example.com', time: expect.any(String) });
    // The right password is refused now too, and still no second refused-login event within the minute.
    expect((await redisCli(dbPort, ['ACL', 'WHOAMI'], { user: 'dbtrail', pass: USER_PASSWORD })).stdout).not.toBe('dbtrail');
    expect(await findEvents({ type: 'database_login_refused', user_name: 'dbtrail' })).toHaveLength(1);
  }, 60_000);

  it('never shows a password in GET /v1/logs or in the node’s output', async () => {
    const { text } = await logs();
    const output = node.output();
    expect(output).toContain('database login refused');
    for (const secret of [...WRONG, 'Wrong-Db-Guess-More-0', 'Nobody-Guess-1', USER_PASSWORD, admin.password]) {
      expect(text).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });
});

describe('actions are events with actor and target', () => {
  it('records who flushed which database', async () => {
    await ok('PUT', `/v1/bdbs/${bdbUid}/flush`);
    const events = await findEvents({ type: 'bdb_flush_requested', target_uid: bdbUid });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'INFO', user_uid: 1, user_email: admin.email, target_type: 'bdb', target_name: 'trail-db', time: expect.any(String) });
  }, 60_000);

  it('records who removed which node', async () => {
    second = await startTestNode({ address: '127.0.0.2', admin, args: clusterArgs(2) });
    const uid = Number((await apiRequest(second.port, { path: '/v1/bootstrap' }, second.address)).json.local_node_info.uid);
    await second.kill();
    await waitFor(
      'the second node to be down',
      async () => ((await api('GET', '/v1/nodes')).json as Array<{ uid: number; status: string }>).find((n) => n.uid === uid)?.status === 'down',
      LEASE_SECONDS * 1000 + 20_000,
      200,
    );
    const removed = await api('POST', `/v1/nodes/${uid}/actions/remove`);
    expect(removed.status, removed.text).toBe(200);
    const events = await findEvents({ type: 'node_removed', target_uid: uid });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'INFO', user_uid: 1, user_email: admin.email, target_type: 'node', target_name: 'trail-node-2', time: expect.any(String) });
  }, 90_000);
});
