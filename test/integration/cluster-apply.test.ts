// PUT /v1/cluster under the apply contract (issue 16.5, src/api/state/apply-contract.ts) on two real certplane
// nodes sharing one real etcd: the answer is 200 only once both nodes serve a cipher change on new handshakes,
// and 409 nodes_not_updated naming a live member that cannot apply it in time (frozen with SIGSTOP, its lease
// still alive); the change stays stored, the member converges once it runs again, and a retry answers 200.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { clusterCalls, destroyCluster, nodeUid, waitUntil } from '../helpers/cluster-calls.js';
import type { ApiResponse, Credentials } from '../helpers/api-client.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { freezeProcess } from '../helpers/freeze-process.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };
const APPLY_TIMEOUT_MS = 3000;
/** Far longer than the apply timeout: the frozen member stays live (pending), it is not down. */
const LEASE_TTL_SECONDS = 30;
const NARROW = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384';
const WIDE = 'ECDHE+AESGCM:ECDHE+CHACHA20';

let etcd: TestEtcd;
const nodes: TestNode[] = [];
const uids: string[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  const args = (index: number): string[] => ['--store', etcd.storeUrl, '--apply-timeout-ms', String(APPLY_TIMEOUT_MS), '--lease-ttl-seconds', String(LEASE_TTL_SECONDS), '--node-name', `node-${index}`];
  nodes.push(await startTestNode({ address: '127.0.0.1', admin, args: args(1) }));
  nodes.push(await startTestNode({ address: '127.0.0.2', admin, args: args(2) }));
  for (const node of nodes) uids.push(await nodeUid(node));
}, 120_000);

afterAll(() => destroyCluster(nodes, etcd));

const { call } = clusterCalls(admin);

/** true when a new TLS 1.2 handshake with the node's API completes offering only this cipher. */
function acceptsCipher(node: TestNode, cipher: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: node.address, port: node.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: cipher });
    socket.setTimeout(10_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const AES128 = 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256';
const AES256 = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384';

describe('PUT /v1/cluster on two nodes', () => {
  it('answers 200 only once both nodes serve the new control_cipher_suites on new handshakes', async () => {
    for (const node of nodes) expect(await acceptsCipher(node, AES128), `AES128-GCM on ${node.address} before`).toBe(true);
    const put = await call(nodes[0]!, 'PUT', '/v1/cluster', { control_cipher_suites: NARROW });
    expect(put.status, put.text).toBe(200);
    // Right after the 200, without waiting: both nodes already refuse the cipher the change removed.
    for (const node of nodes) {
      expect(await acceptsCipher(node, AES128), `AES128-GCM on ${node.address} after`).toBe(false);
      expect(await acceptsCipher(node, AES256), `AES256-GCM on ${node.address} after`).toBe(true);
    }
    // Both nodes report one applied revision once they settle (leader jobs such as the CRL refresher may write a
    // watched key meanwhile, so one node can be a revision ahead for a moment).
    const revisions = async (): Promise<number> => new Set(((await call(nodes[1]!, 'GET', '/v1/nodes')).json as Array<{ certificates_revision: number }>).map((n) => n.certificates_revision)).size;
    await waitUntil(async () => (await revisions()) === 1, 15_000, 'both nodes report the same applied revision');
  }, 60_000);

  it('answers 409 nodes_not_updated naming a live member that cannot apply in time; the change stays stored, the member converges, a retry answers 200', async () => {
    const frozen = nodes[1]!;
    await freezeProcess(frozen.process.pid!);
    let response: ApiResponse;
    const started = Date.now();
    try {
      response = await call(nodes[0]!, 'PUT', '/v1/cluster', { control_cipher_suites: WIDE });
      // Still frozen: the member has not applied it (it is live, its lease has not lapsed).
      expect(await acceptsCipher(nodes[0]!, AES128)).toBe(true);
    } finally {
      frozen.process.kill('SIGCONT');
    }
    const elapsed = Date.now() - started;
    expect(response.status, response.text).toBe(409);
    expect(response.json).toMatchObject({ error_code: 'nodes_not_updated', nodes: [uids[1]] });
    expect(response.json.description).toContain(`${uids[1]} (did not confirm within ${APPLY_TIMEOUT_MS} ms)`);
    expect(elapsed).toBeGreaterThanOrEqual(APPLY_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(LEASE_TTL_SECONDS * 1000);
    // The change is stored and the live member serves it; the resumed member converges on its own.
    expect((await call(nodes[0]!, 'GET', '/v1/cluster')).json.control_cipher_suites).toBe(WIDE);
    await waitUntil(() => acceptsCipher(frozen, AES128), 20_000, 'the resumed member serves the new cipher setting');
    const retry = await call(nodes[0]!, 'PUT', '/v1/cluster', { control_cipher_suites: WIDE });
    expect(retry.status, retry.text).toBe(200);
  }, 90_000);
});
