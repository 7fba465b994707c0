// Cluster Manager UI sessions on a cluster of two real nodes sharing one etcd (README "Cluster Manager UI →
// Sessions"): behind a load balancer a browser's requests land on any node, so a session opened on one node works
// on the other, and its end (logout, a password change made on the other node's API) holds on both at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { destroyCluster, waitUntil } from '../helpers/cluster-calls.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };

interface Session {
  cookie: string;
  csrf: string;
}

describe('Cluster Manager UI sessions across the nodes of a cluster', () => {
  let etcd: TestEtcd;
  const nodes: TestNode[] = [];

  const cm = (node: TestNode, p: string, options: { method?: string; body?: unknown; session?: Session } = {}): Promise<ApiResponse> =>
    apiRequest(
      node.cmPort,
      {
        method: options.method ?? 'GET',
        path: p,
        body: options.body,
        headers: options.session === undefined ? {} : { cookie: `certplane_session=${options.session.cookie}`, 'x-csrf-token': options.session.csrf },
      },
      node.address,
    );
  const login = async (node: TestNode, credentials: Credentials): Promise<Session> => {
    const response = await cm(node, '/ui/api/login', { method: 'POST', body: { username: credentials.email, password: credentials.password } });
    expect(response.status, response.text).toBe(200);
    const cookie = /certplane_session=([^;]*)/.exec(String(response.headers['set-cookie']))![1]!;
    return { cookie, csrf: response.json.csrf_token };
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    // One after the other: the machine running the suite is small, and the first creates the cluster.
    for (const i of [1, 2]) {
      nodes.push(await startTestNode({ address: `127.0.0.${i}`, admin, args: ['--store', etcd.storeUrl, '--apply-timeout-ms', '5000', '--node-name', `node-${i}`] }));
    }
    // Each node answers on its API port first; its cm port listens a moment later.
    for (const node of nodes) await waitUntil(async () => (await cm(node, '/ui/api/session')).status === 401, 30_000, 'the cm port answers');
  });

  afterAll(async () => {
    await destroyCluster(nodes, etcd);
  });

  it('a session opened on one node works on the other, and a logout on the other ends it on both', async () => {
    const [one, two] = nodes as [TestNode, TestNode];
    const session = await login(one, admin);
    const onTwo = await cm(two, '/ui/api/session', { session });
    expect(onTwo.status, onTwo.text).toBe(200);
    expect(onTwo.json.csrf_token).toBe(session.csrf);
    // A change through node 2 with the session opened on node 1.
    const change = await cm(two, '/v1/cluster', { method: 'PUT', session, body: { password_min_length: 10 } });
    expect(change.status, change.text).toBe(200);

    expect((await cm(two, '/ui/api/logout', { method: 'POST', session })).status).toBe(204);
    expect((await cm(one, '/v1/users/role', { session })).status).toBe(401);
    expect((await cm(two, '/v1/users/role', { session })).status).toBe(401);
  });

  it('a password change made on one node’s REST API ends the user’s sessions opened on the other', async () => {
    const [one, two] = nodes as [TestNode, TestNode];
    const created = await apiRequest(one.port, { method: 'POST', path: '/v1/users', auth: admin, body: { name: 'ops', email: 'ops@example.com', password: 'Ops-Password-1', role: 'cluster_viewer' } }, one.address);
    expect(created.status, created.text).toBe(200);
    const session = await login(one, { email: 'ops@example.com', password: 'Ops-Password-1' });
    expect((await cm(two, '/v1/users/role', { session })).status).toBe(200);
    const reset = await apiRequest(two.port, { method: 'PUT', path: '/v1/users/password', auth: admin, body: { username: 'ops@example.com', new_password: 'Ops-Password-2' } }, two.address);
    expect(reset.status, reset.text).toBe(200);
    expect((await cm(one, '/v1/users/role', { session })).status).toBe(401);
  });
});
