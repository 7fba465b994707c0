// A cluster of three real certplane nodes (127.0.0.1-3) sharing one real etcd: the cluster is created exactly
// once, every node serves the certificates the API confirms, a frozen node yields 409 nodes_not_updated and
// converges after it resumes, a stopped etcd yields 503 (and a node started meanwhile waits and joins), two
// concurrent rotations never leave a mixed pair, and a leader killed mid-apply is marked down and replaced, and
// converges when restarted.
// The tests run in order on one cluster; each leaves every node running and converged.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { clusterCalls, newApiCertificate, servedFingerprint, waitUntil } from '../helpers/cluster-calls.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { freezeProcess } from '../helpers/freeze-process.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };
const LEASE_TTL_SECONDS = 5;

let etcd: TestEtcd;
let nodes: TestNode[] = [];
const extraNodes: TestNode[] = [];

function startClusterNode(index: number, restart?: { dataDir: string; port: number }): Promise<TestNode> {
  return startTestNode({
    address: `127.0.0.${index}`,
    admin,
    ...restart,
    args: ['--store', etcd.storeUrl, '--apply-timeout-ms', '2000', '--lease-ttl-seconds', String(LEASE_TTL_SECONDS), '--node-name', `node-${index}`],
  });
}

beforeAll(async () => {
  etcd = await startEtcd();
  // All three at once on the empty etcd: they race to create the cluster.
  nodes = await Promise.all([1, 2, 3].map((i) => startClusterNode(i)));
});

afterAll(async () => {
  const all = [...nodes, ...extraNodes];
  for (const node of all) node.process.kill('SIGCONT');
  // Stop every process first: a restarted node shares the data dir of the one it replaced.
  await Promise.all(all.map((node) => node.stop()));
  await Promise.all(all.map((node) => node.destroy()));
  await etcd?.destroy();
});

const { call, putApiCertificate } = clusterCalls(admin);

/** The api certificate and key files on a node's disk, and whether they form a pair. */
async function apiFilesOf(node: TestNode): Promise<{ fingerprint: string; pairMatches: boolean }> {
  const dir = path.join(node.dataDir, 'certs');
  const [certificate, key] = await Promise.all([readFile(path.join(dir, 'api_cert.pem'), 'utf8'), readFile(path.join(dir, 'api_key.pem'), 'utf8')]);
  const x509 = new X509Certificate(certificate);
  return { fingerprint: x509.fingerprint256, pairMatches: x509.checkPrivateKey(createPrivateKey(key)) };
}

describe('a three-node cluster on etcd', () => {
  it('creates the cluster exactly once when three nodes start together, and lists every node', async () => {
    const creations = nodes.map((n) => n.output().split('\n').filter((line) => line.includes('"msg":"cluster created"')).length);
    expect(creations.reduce((a, b) => a + b, 0)).toBe(1);
    // Every node serves the same generated api certificate.
    const served = await Promise.all(nodes.map(servedFingerprint));
    expect(new Set(served).size).toBe(1);

    for (const node of nodes) {
      const response = await call(node, 'GET', '/v1/nodes');
      expect(response.status).toBe(200);
      const list = response.json as Array<Record<string, unknown>>;
      expect(list.map((n) => [n.uid, n.status])).toEqual([[1, 'active'], [2, 'active'], [3, 'active']]);
      expect(new Set(list.map((n) => n.addr))).toEqual(new Set(['127.0.0.1', '127.0.0.2', '127.0.0.3']));
      expect(list.filter((n) => n.is_leader === true)).toHaveLength(1);
      for (const n of list) expect(n.certificates_revision).toBeGreaterThan(0);
    }
    // uids come from the store, one per node, and each node knows its own.
    const own = await Promise.all(nodes.map(async (n) => (await apiRequest(n.port, { path: '/v1/bootstrap' }, n.address)).json.local_node_info.uid));
    expect([...own].map(String).sort()).toEqual(['1', '2', '3']);
    const single = await call(nodes[0]!, 'GET', `/v1/nodes/${own[1]}`);
    expect(single.status).toBe(200);
    expect(single.json).toMatchObject({ uid: Number(own[1]), addr: '127.0.0.2', status: 'active' });
    expect((await call(nodes[0]!, 'GET', '/v1/nodes/99')).json).toMatchObject({ error_code: 'not_found' });
    expect((await call(nodes[0]!, 'GET', '/v1/nodes/abc')).status).toBe(400);
  });

  it('answers PUT /v1/cluster/certificates on one node only after every node serves the new api certificate', async () => {
    const cert = await newApiCertificate();
    const response = await putApiCertificate(nodes[0]!, cert);
    expect(response.status).toBe(200);
    // Right after the 200: a fresh TLS handshake with every node presents the new certificate.
    expect(await Promise.all(nodes.map(servedFingerprint))).toEqual(nodes.map(() => cert.x509.fingerprint256));
    for (const node of nodes) expect(await apiFilesOf(node)).toEqual({ fingerprint: cert.x509.fingerprint256, pairMatches: true });
    const list = (await call(nodes[2]!, 'GET', '/v1/nodes')).json as Array<{ certificates_revision: number }>;
    expect(new Set(list.map((n) => n.certificates_revision)).size).toBe(1);
  });

  it('leaves one consistent certificate and key on every node after two concurrent PUTs on two nodes', async () => {
    const [first, second] = await Promise.all([newApiCertificate(), newApiCertificate()]);
    const responses = await Promise.all([putApiCertificate(nodes[0]!, first), putApiCertificate(nodes[1]!, second)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const stored = (await call(nodes[2]!, 'GET', '/v1/cluster/certificates')).json.api_cert as string;
    const winner = new X509Certificate(stored).fingerprint256;
    expect([first.x509.fingerprint256, second.x509.fingerprint256]).toContain(winner);
    expect(await Promise.all(nodes.map(servedFingerprint))).toEqual(nodes.map(() => winner));
    for (const node of nodes) expect(await apiFilesOf(node)).toEqual({ fingerprint: winner, pairMatches: true });
  });

  it('answers 409 nodes_not_updated naming a frozen node, which converges after it resumes; a retry answers 200', async () => {
    const frozen = nodes[2]!;
    const frozenUid = String((await apiRequest(frozen.port, { path: '/v1/bootstrap' }, frozen.address)).json.local_node_info.uid);
    const cert = await newApiCertificate();
    await freezeProcess(frozen.process.pid!);
    let response: ApiResponse;
    const started = Date.now();
    try {
      response = await putApiCertificate(nodes[0]!, cert);
    } finally {
      frozen.process.kill('SIGCONT');
    }
    const elapsed = Date.now() - started;
    expect(response.status).toBe(409);
    expect(response.json).toMatchObject({ error_code: 'nodes_not_updated', nodes: [frozenUid] });
    expect(response.json.description).toContain(frozenUid);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000);
    // The other nodes already serve it; the resumed node converges on its own.
    expect(await servedFingerprint(nodes[1]!)).toBe(cert.x509.fingerprint256);
    await waitUntil(async () => (await servedFingerprint(frozen)) === cert.x509.fingerprint256, 15_000, 'the resumed node serves the new certificate');
    expect((await putApiCertificate(nodes[0]!, cert)).status).toBe(200);
    for (const node of nodes) expect(await apiFilesOf(node)).toEqual({ fingerprint: cert.x509.fingerprint256, pairMatches: true });
  });

  it('answers 503 store_unavailable (not a hang) while etcd is stopped; a node started meanwhile waits and joins', async () => {
    const cert = await newApiCertificate();
    await etcd.stop();
    let late: Promise<TestNode> | undefined;
    try {
      for (const node of nodes) {
        const started = Date.now();
        const response = await putApiCertificate(node, cert);
        expect(response.status).toBe(503);
        expect(response.json).toMatchObject({ error_code: 'store_unavailable' });
        expect(response.json.message).toBe(response.json.description);
        expect(Date.now() - started).toBeLessThan(5000);
      }
      expect((await call(nodes[1]!, 'GET', '/v1/nodes')).status).toBe(503);
      late = startClusterNode(4);
      // Still waiting for the store: not listening yet.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await etcd.start();
    }
    const fourth = await late;
    extraNodes.push(fourth);
    // Every node reconnects by itself; the change then goes through everywhere, including the new node.
    await waitUntil(async () => (await putApiCertificate(nodes[0]!, cert)).status === 200, 20_000, 'PUT succeeds after etcd is back');
    expect(await Promise.all([...nodes, fourth].map(servedFingerprint))).toEqual([...nodes, fourth].map(() => cert.x509.fingerprint256));
    const list = (await call(fourth, 'GET', '/v1/nodes')).json as Array<{ uid: number; status: string }>;
    expect(list.map((n) => n.status)).toEqual(['active', 'active', 'active', 'active']);
    await fourth.stop();
    // A clean stop revokes the lease at once: the node is down without waiting for the TTL.
    await waitUntil(async () => ((await call(nodes[0]!, 'GET', '/v1/nodes')).json as Array<{ status: string }>).filter((n) => n.status === 'down').length === 1, 3000, 'the stopped node is down');
    // A member that is down has not applied later changes (409, at once); removed, it no longer counts.
    const fourthUid = String((list as Array<{ uid: number; status: string }>).at(-1)!.uid);
    const whileDown = await putApiCertificate(nodes[0]!, cert);
    expect(whileDown.status).toBe(409);
    expect(whileDown.json.nodes).toEqual([fourthUid]);
    expect((await call(nodes[0]!, 'POST', `/v1/nodes/${fourthUid}/actions/remove`)).status).toBe(200);
    expect((await putApiCertificate(nodes[0]!, cert)).status).toBe(200);
  });

  it('marks a leader SIGKILLed during a PUT down, elects another within seconds; restarted, it converges', async () => {
    const before = (await call(nodes[0]!, 'GET', '/v1/nodes')).json as Array<{ uid: number; addr: string; status: string; is_leader: boolean }>;
    const leader = before.find((n) => n.is_leader)!;
    const victimIndex = nodes.findIndex((n) => n.address === leader.addr);
    const victim = nodes[victimIndex]!;
    const survivor = nodes.find((n) => n !== victim)!;
    const cert = await newApiCertificate();
    // Killed while the change is being applied: the PUT either saw it apply first (200) or names it (409).
    const putting = putApiCertificate(survivor, cert);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const killedAt = Date.now();
    await victim.kill();
    const response = await putting;
    expect([200, 409]).toContain(response.status);
    if (response.status === 409) expect(response.json.nodes).toEqual([String(leader.uid)]);
    await waitUntil(
      async () => {
        const list = (await call(survivor, 'GET', '/v1/nodes')).json as Array<{ uid: number; status: string; is_leader: boolean }>;
        const dead = list.find((n) => n.uid === leader.uid)!;
        return dead.status === 'down' && list.some((n) => n.is_leader && n.status === 'active');
      },
      (LEASE_TTL_SECONDS + 5) * 1000,
      'the killed leader is down and another node leads',
    );
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan((LEASE_TTL_SECONDS + 5) * 1000);
    // A dead member has not applied the change: 409 naming it, at once (DESIGN.md: never excused).
    const whileDead = await putApiCertificate(survivor, cert);
    expect(whileDead.status).toBe(409);
    expect(whileDead.json.nodes).toEqual([String(leader.uid)]);
    process.stdout.write(`multi-node: leader ${leader.uid} killed, marked down and replaced after ${takeoverMs} ms (lease TTL ${LEASE_TTL_SECONDS} s)\n`);

    // Restarted on its data dir: same uid, active again, serving the current certificate with its own key.
    const restarted = await startClusterNode(victimIndex + 1, { dataDir: victim.dataDir, port: victim.port });
    extraNodes.push(restarted);
    expect(String((await apiRequest(restarted.port, { path: '/v1/bootstrap' }, restarted.address)).json.local_node_info.uid)).toBe(String(leader.uid));
    expect(await servedFingerprint(restarted)).toBe(cert.x509.fingerprint256);
    expect(await apiFilesOf(restarted)).toEqual({ fingerprint: cert.x509.fingerprint256, pairMatches: true });
    const after = (await call(restarted, 'GET', '/v1/nodes')).json as Array<{ uid: number; status: string; is_leader: boolean }>;
    expect(after.find((n) => n.uid === leader.uid)?.status).toBe('active');
    expect(after.filter((n) => n.is_leader)).toHaveLength(1);
    // Back and converged: every member has applied it.
    expect((await putApiCertificate(survivor, cert)).status).toBe(200);
  });
});
