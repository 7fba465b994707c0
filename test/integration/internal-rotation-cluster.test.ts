// Internal certificate rotation across three real certplane nodes on one real etcd (issue 14 item 1): a rotate
// answers 200 once every node has the new internode certificates on disk (each a matching pair), 409
// nodes_not_updated naming a frozen node (which converges when it resumes), a node killed while frozen during a
// rotation and a node killed right after the store write both come back with the new certificates and never hold a
// certificate beside a foreign key, and the scheduled job runs on the leader only, once per firing, and goes on
// after the leader is killed. Prints the fingerprints per node before/after (the transcript of a 3-node rotation).
// The tests run in order on one cluster; each leaves every node running and converged.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { clusterCalls, nodeUid, waitUntil } from '../helpers/cluster-calls.js';
import type { Credentials } from '../helpers/api-client.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { freezeProcess } from '../helpers/freeze-process.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };
const LEASE_TTL_SECONDS = 5;
const INTERNODE = ['ccs_internode_encryption', 'data_internode_encryption'] as const;

let etcd: TestEtcd;
const nodes: TestNode[] = [];
const retired: TestNode[] = [];

function startClusterNode(index: number, restart?: { dataDir: string; port: number; metricsPort: number }): Promise<TestNode> {
  return startTestNode({
    address: `127.0.0.${index}`,
    admin,
    ...restart,
    args: ['--store', etcd.storeUrl, '--apply-timeout-ms', '3000', '--lease-ttl-seconds', String(LEASE_TTL_SECONDS), '--node-name', `node-${index}`],
  });
}

async function restartNode(index: number): Promise<void> {
  const old = nodes[index]!;
  retired.push(old);
  nodes[index] = await startClusterNode(index + 1, { dataDir: old.dataDir, port: old.port, metricsPort: old.metricsPort });
}

beforeAll(async () => {
  etcd = await startEtcd();
  // One after another (the machine is shared and slow; multi-node.test.ts covers the creation race).
  for (const i of [1, 2, 3]) nodes.push(await startClusterNode(i));
  const off = await call(nodes[0]!, 'PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { enabled: false } });
  expect(off.status, off.text).toBe(200);
});

afterAll(async () => {
  const all = [...nodes, ...retired];
  for (const node of all) node.process.kill('SIGCONT');
  await Promise.all(all.map((node) => node.stop()));
  await Promise.all(nodes.map((node) => node.destroy()));
  await etcd?.destroy();
});

const { call } = clusterCalls(admin);

/** The internode leaves as the store has them (through any live node). */
async function stored(via: TestNode): Promise<Record<string, string>> {
  const response = await call(via, 'GET', '/v1/cluster/certificates');
  expect(response.status).toBe(200);
  return Object.fromEntries(INTERNODE.map((name) => [name, new X509Certificate(response.json[`${name}_cert`] as string).fingerprint256]));
}

/** A node's internode files: the leaf fingerprint and whether the key file is its key. */
async function onDisk(node: TestNode): Promise<Record<string, { fingerprint: string; pairMatches: boolean }>> {
  const dir = path.join(node.dataDir, 'certs');
  const out: Record<string, { fingerprint: string; pairMatches: boolean }> = {};
  for (const name of INTERNODE) {
    const [chain, key] = await Promise.all([readFile(path.join(dir, `${name}_cert.pem`), 'utf8'), readFile(path.join(dir, `${name}_key.pem`), 'utf8')]);
    const leaf = new X509Certificate(chain);
    out[name] = { fingerprint: leaf.fingerprint256, pairMatches: leaf.checkPrivateKey(createPrivateKey(key)) };
  }
  return out;
}

async function matchesStore(node: TestNode, expected: Record<string, string>): Promise<boolean> {
  const files = await onDisk(node);
  return INTERNODE.every((name) => files[name]!.pairMatches && files[name]!.fingerprint === expected[name]);
}

/** One consistent view of a node's files (one generation directory): its internode leaves and its internal trust bundle. */
async function trustView(node: TestNode): Promise<{ leaves: X509Certificate[]; trust: X509Certificate[] }> {
  const dir = await realpath(path.join(node.dataDir, 'certs'));
  const [bundle, ...chains] = await Promise.all([readFile(path.join(dir, 'internal_ca_trust_cert.pem'), 'utf8'), ...INTERNODE.map((name) => readFile(path.join(dir, `${name}_cert.pem`), 'utf8'))]);
  const certificates = (pem: string): X509Certificate[] => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
  return { leaves: chains.map((chain) => certificates(chain)[0]!), trust: certificates(bundle) };
}

const short = (fingerprint: string | undefined): string => (fingerprint ?? '-').slice(0, 23);

describe('internal rotation on a three-node cluster (etcd)', () => {
  it('rotates the internode certificates on every node: 200 once each node has the new matching pairs on disk', async () => {
    const before = await Promise.all(nodes.map(onDisk));
    const response = await call(nodes[1]!, 'POST', '/v1/cluster/certificates/rotate');
    expect(response.status, response.text).toBe(200);
    const expected = await stored(nodes[0]!);
    const after = await Promise.all(nodes.map(onDisk));
    const lines = ['3-node rotation (POST /v1/cluster/certificates/rotate via node-2), leaf SHA-256 fingerprints on disk:'];
    for (const [i, node] of nodes.entries()) {
      for (const name of INTERNODE) {
        const was = before[i]![name]!;
        const now = after[i]![name]!;
        lines.push(`  node-${i + 1} (${node.address}) ${name}: ${short(was.fingerprint)} -> ${short(now.fingerprint)} key matches: ${now.pairMatches}`);
        expect(now).toEqual({ fingerprint: expected[name], pairMatches: true });
        expect(now.fingerprint).not.toBe(was.fingerprint);
      }
    }
    console.log(lines.join('\n'));
  });

  it('answers 409 nodes_not_updated naming a frozen node, which converges after it resumes', async () => {
    const frozen = nodes[2]!;
    const frozenUid = await nodeUid(frozen);
    const before = await onDisk(frozen);
    await freezeProcess(frozen.process.pid!);
    let response;
    try {
      response = await call(nodes[0]!, 'POST', '/v1/cluster/certificates/rotate', { name: 'data_internode_encryption' });
      // While frozen, its files are still the old, matching pairs.
      expect(await onDisk(frozen)).toEqual(before);
    } finally {
      frozen.process.kill('SIGCONT');
    }
    expect(response.status, response.text).toBe(409);
    expect(response.json).toMatchObject({ error_code: 'nodes_not_updated', nodes: [String(frozenUid)] });
    const expected = await stored(nodes[0]!);
    expect(expected.data_internode_encryption).not.toBe(before.data_internode_encryption!.fingerprint);
    await waitUntil(() => matchesStore(frozen, expected), 30_000, 'the resumed node has the rotated certificate');
    console.log(`frozen node-3 (uid ${frozenUid}): 409 nodes_not_updated, then converged to data_internode_encryption ${short(expected.data_internode_encryption)}`);
  });

  it('a node killed while frozen mid-rotation keeps a matching old pair, and after a restart has the new one', async () => {
    const victim = nodes[2]!;
    await freezeProcess(victim.process.pid!);
    const response = await call(nodes[0]!, 'POST', '/v1/cluster/certificates/rotate');
    expect(response.status, response.text).toBe(409);
    await victim.kill(); // SIGKILL while stopped
    const files = await onDisk(victim);
    for (const name of INTERNODE) expect(files[name]!.pairMatches).toBe(true);
    const expected = await stored(nodes[0]!);
    await restartNode(2);
    await waitUntil(() => matchesStore(nodes[2]!, expected), 30_000, 'the restarted node has the rotated certificates');
    // A retry now answers 200 from every member.
    const retry = await call(nodes[0]!, 'POST', '/v1/cluster/certificates/rotate');
    expect(retry.status, retry.text).toBe(200);
    const latest = await stored(nodes[0]!);
    for (const node of nodes) expect(await matchesStore(node, latest)).toBe(true);
  });

  it('the node that takes a rotate request, killed right after the store write or before it, leaves the rotation finished or not made, never a mixed pair', async () => {
    for (const when of ['right after the store write', 'at 300 ms'] as const) {
      const entry = nodes[0]!;
      const before = await stored(nodes[1]!);
      const request = call(entry, 'POST', '/v1/cluster/certificates/rotate').catch(() => undefined);
      if (when === 'at 300 ms') await new Promise((resolve) => setTimeout(resolve, 300));
      else await waitUntil(async () => JSON.stringify(await stored(nodes[1]!)) !== JSON.stringify(before), 30_000, 'the rotation is in the store');
      await entry.kill();
      await request;
      const after = await stored(nodes[1]!);
      // All or nothing: both certificates changed, or neither.
      const changed = INTERNODE.filter((name) => after[name] !== before[name]);
      expect([0, 2]).toContain(changed.length);
      if (when === 'right after the store write') expect(changed).toHaveLength(2);
      for (const node of nodes.slice(1)) await waitUntil(() => matchesStore(node, after), 30_000, 'the live nodes apply what the store holds');
      for (const [name, file] of Object.entries(await onDisk(entry))) expect(file.pairMatches, name).toBe(true);
      await restartNode(0);
      await waitUntil(() => matchesStore(nodes[0]!, after), 30_000, 'the restarted node has what the store holds');
      console.log(`entry node-1 SIGKILLed ${when} of a rotate: ${changed.length === 2 ? 'the rotation finished' : 'no rotation was made'}; on every node each internode certificate file has its own key and equals the store's`);
    }
  });

  it('renews the internal CA: at every moment each node trusts the issuer of every node\'s internode certificates, and the old CA is retired after the overlap', async () => {
    // A verifier of internode connections would trust <data-dir>/certs/internal_ca_trust_cert.pem. Sampled from one
    // generation directory at a time while the renewal runs: no sample may show a node holding a certificate that
    // another node's bundle does not trust.
    let sampling = true;
    let samples = 0;
    const violations: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const views = await Promise.all(nodes.map((node) => trustView(node).catch(() => undefined)));
        if (views.every((v) => v !== undefined)) {
          samples += 1;
          for (const [i, holder] of views.entries()) {
            for (const [j, verifier] of views.entries()) {
              for (const leaf of holder.leaves) {
                if (!verifier.trust.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) violations.push(`node-${j + 1} does not trust a certificate of node-${i + 1}`);
              }
            }
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const oldCa = (await trustView(nodes[0]!)).trust;
    expect(oldCa).toHaveLength(1);
    let response;
    try {
      response = await call(nodes[0]!, 'POST', '/v1/cluster/certificates/rotate', { name: 'internal_ca', overlap_seconds: 5 });
      expect(response.status, response.text).toBe(200);
      for (const node of nodes) {
        const view = await trustView(node);
        expect(view.trust).toHaveLength(2);
        expect(view.trust.map((c) => c.fingerprint256)).toContain(oldCa[0]!.fingerprint256);
        for (const leaf of view.leaves) expect(leaf.checkIssued(oldCa[0]!)).toBe(false);
      }
      await waitUntil(async () => (await Promise.all(nodes.map(trustView))).every((v) => v.trust.length === 1), 60_000, 'every node dropped the old CA');
    } finally {
      sampling = false;
      await sampler;
    }
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(5);
    const newCa = (await trustView(nodes[0]!)).trust[0]!;
    expect(newCa.fingerprint256).not.toBe(oldCa[0]!.fingerprint256);
    console.log(
      `internal CA renewal: old CA ${short(oldCa[0]!.fingerprint256)} -> new CA ${short(newCa.fingerprint256)}; both trusted on every node for the 5 s overlap, then the old one retired; ${samples} samples of all 3 nodes, no node ever held a certificate another node did not trust`,
    );
  });

  it('a CA renewal that meets a frozen node stops before re-issuing (409); repeated, it resumes the same renewal and finishes', async () => {
    const frozen = nodes[2]!;
    const before = await trustView(nodes[0]!);
    await freezeProcess(frozen.process.pid!);
    let first;
    try {
      first = await call(nodes[0]!, 'POST', '/v1/cluster/certificates/rotate', { name: 'internal_ca', overlap_seconds: 600 });
      // The live nodes trust both CAs, but nobody holds a certificate from the new CA yet.
      for (const node of nodes.slice(0, 2)) {
        const view = await trustView(node);
        expect(view.trust).toHaveLength(2);
        expect(view.leaves.map((l) => l.fingerprint256)).toEqual(before.leaves.map((l) => l.fingerprint256));
      }
      // A repeated request while the node is still frozen: still 409, still nothing issued from the new CA.
      const again = await call(nodes[1]!, 'POST', '/v1/cluster/certificates/rotate', { name: 'internal_ca' });
      expect(again.status, again.text).toBe(409);
      expect((await trustView(nodes[1]!)).leaves.map((l) => l.fingerprint256)).toEqual(before.leaves.map((l) => l.fingerprint256));
    } finally {
      frozen.process.kill('SIGCONT');
    }
    expect(first.status, first.text).toBe(409);
    expect(first.json).toMatchObject({ error_code: 'nodes_not_updated' });
    await waitUntil(async () => (await trustView(frozen)).trust.length === 2, 30_000, 'the resumed node trusts both CAs');
    const retry = await call(nodes[0]!, 'POST', '/v1/cluster/certificates/rotate', { name: 'internal_ca' });
    expect(retry.status, retry.text).toBe(200);
    // The same renewal (no third CA), and every node's certificates now come from the new CA.
    expect(retry.json.internal_ca).toMatchObject({ retire_after: expect.any(String) });
    const views = await Promise.all(nodes.map(trustView));
    const newCa = views[0]!.trust[0]!;
    for (const view of views) {
      expect(view.trust.map((c) => c.fingerprint256)).toEqual([newCa.fingerprint256, before.trust[0]!.fingerprint256]);
      for (const leaf of view.leaves) expect(leaf.checkIssued(newCa) && leaf.verify(newCa.publicKey)).toBe(true);
    }
    console.log(`CA renewal with node-3 frozen: 409 and no certificate from the new CA; after it resumed the repeated request finished the same renewal (new CA ${short(newCa.fingerprint256)})`);
  });

  it('the scheduled job rotates on the leader only, once per firing, and a new leader takes over after the leader is killed', async () => {
    const put = await call(nodes[0]!, 'PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { cron_expression: '*/2 * * * * *', enabled: true, expiry_days_before_rotation: 90 } });
    expect(put.status, put.text).toBe(200);
    const start = await stored(nodes[0]!);
    await waitUntil(async () => (await stored(nodes[0]!)).ccs_internode_encryption !== start.ccs_internode_encryption, 30_000, 'the job rotated');

    const list = (await call(nodes[0]!, 'GET', '/v1/nodes')).json as Array<{ uid: number; addr: string; is_leader: boolean }>;
    const leaderAddr = list.find((n) => n.is_leader)!.addr;
    const leaderIndex = nodes.findIndex((n) => n.address === leaderAddr);
    expect(nodes.filter((_, i) => i !== leaderIndex).every((n) => !n.output().includes('rotated by the scheduled job'))).toBe(true);
    await nodes[leaderIndex]!.kill();
    const survivor = nodes[(leaderIndex + 1) % 3]!;
    const atKill = await stored(survivor);
    await waitUntil(async () => (await stored(survivor)).ccs_internode_encryption !== atKill.ccs_internode_encryption, 60_000, 'a new leader runs the job');
    const off = await call(survivor, 'PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { enabled: false } });
    expect(off.status, off.text).toBe(200);

    // Once per firing: the job's rotations (audit events of actor cert_rotation_job) never touch one certificate
    // twice for one firing (firings are 2 s apart).
    const logs = (await call(survivor, 'GET', '/v1/logs?order=asc&limit=1000')).json as Array<{ time: string; user_email?: string; certificate_name?: string }>;
    const jobEvents = logs.filter((e) => e.user_email === 'cert_rotation_job' && e.certificate_name === 'ccs_internode_encryption');
    expect(jobEvents.length).toBeGreaterThanOrEqual(2);
    const times = jobEvents.map((e) => Date.parse(e.time));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
    console.log(`scheduled job: ${jobEvents.length} rotations of ccs_internode_encryption, leader node-${leaderIndex + 1} killed, job continued on the new leader`);

    await restartNode(leaderIndex);
    const final = await stored(survivor);
    for (const node of nodes) await waitUntil(() => matchesStore(node, final), 30_000, 'every node converges');
  });
});
