// PUT /v1/cluster/crls under the apply contract on two real nodes sharing one real etcd: 200 once both nodes
// enforce the CRL (the revoked certificate is refused on the second node right after the answer), and 409
// nodes_not_updated naming a live member that cannot apply it in time (frozen with SIGSTOP); the change stays
// stored, the member converges once it runs again, and a retry answers 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { clusterCalls, destroyCluster, nodeUid, waitUntil } from '../helpers/cluster-calls.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { freezeProcess } from '../helpers/freeze-process.js';
import { OpensslCa, type IssuedCertificate } from '../helpers/openssl-ca.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };
const APPLY_TIMEOUT_MS = 3000;
const LEASE_TTL_SECONDS = 30;

let etcd: TestEtcd;
let dir: string;
let root: OpensslCa;
let alice: IssuedCertificate;
let bob: IssuedCertificate;
const nodes: TestNode[] = [];
const uids: string[] = [];
const { call } = clusterCalls(admin);

const login = (node: TestNode, cert: IssuedCertificate): Promise<ApiResponse> => apiRequest(node.port, { path: '/v1/users/role', cert: cert.chain, key: cert.key }, node.address);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-crl-mn-'));
  root = await OpensslCa.create({ cn: 'CRL Cluster Root' }, dir);
  alice = await root.issueClient('alice');
  bob = await root.issueClient('bob');
  etcd = await startEtcd();
  const args = (index: number): string[] => ['--store', etcd.storeUrl, '--apply-timeout-ms', String(APPLY_TIMEOUT_MS), '--lease-ttl-seconds', String(LEASE_TTL_SECONDS), '--node-name', `node-${index}`];
  nodes.push(await startTestNode({ address: '127.0.0.1', admin, args: args(1) }));
  nodes.push(await startTestNode({ address: '127.0.0.2', admin, args: args(2) }));
  for (const node of nodes) uids.push(await nodeUid(node));
  const first = nodes[0]!;
  expect((await call(first, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: root.certificate }] })).status).toBe(200);
  expect((await call(first, 'PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' })).status).toBe(200);
  for (const name of ['alice', 'bob']) {
    const created = await call(first, 'POST', '/v1/users', { name, auth_method: 'certificate', certificate_subject_line: `CN=${name}`, role: 'cluster_viewer' });
    expect(created.status, created.text).toBe(200);
  }
}, 180_000);

afterAll(async () => {
  await destroyCluster(nodes, etcd);
  await rm(dir, { recursive: true, force: true });
});

describe('PUT /v1/cluster/crls on two nodes', () => {
  it('answers 200 once both nodes enforce the CRL', async () => {
    for (const node of nodes) expect((await login(node, alice)).status).toBe(200);
    await root.revoke(alice.certificate);
    const put = await call(nodes[0]!, 'PUT', '/v1/cluster/crls', { crls: [await root.crl()], crl_checking: { enabled: true } });
    expect(put.status, put.text).toBe(200);
    for (const node of nodes) {
      expect((await login(node, alice)).json).toMatchObject({ error_code: 'certificate_revoked' });
      expect((await login(node, bob)).status).toBe(200);
    }
  }, 60_000);

  it('answers 409 nodes_not_updated naming a frozen member; the change stays stored and a retry answers 200', async () => {
    const frozen = nodes[1]!;
    await root.revoke(bob.certificate);
    const crl = await root.crl();
    await freezeProcess(frozen.process.pid!);
    let response: ApiResponse;
    try {
      response = await call(nodes[0]!, 'PUT', '/v1/cluster/crls', { crls: [crl] });
    } finally {
      frozen.process.kill('SIGCONT');
    }
    expect(response.status, response.text).toBe(409);
    expect(response.json).toMatchObject({ error_code: 'nodes_not_updated', nodes: [uids[1]] });
    // Stored: the live member enforces it; the resumed member converges.
    expect((await call(nodes[0]!, 'GET', '/v1/cluster/crls')).json.crls[0]).toMatchObject({ revoked_count: 2 });
    expect((await login(nodes[0]!, bob)).json).toMatchObject({ error_code: 'certificate_revoked' });
    await waitUntil(async () => (await login(frozen, bob)).status === 401, 30_000, 'the resumed member refuses bob');
    const retry = await call(nodes[0]!, 'PUT', '/v1/cluster/crls', { crls: [crl] });
    expect(retry.status, retry.text).toBe(200);
  }, 90_000);
});
