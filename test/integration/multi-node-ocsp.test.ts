// OCSP on a cluster of three real certplane nodes (127.0.0.1-3) sharing one real etcd, with a real `openssl
// ocsp` responder: only the elected leader polls the responder; every node reports the same cached status and
// staples the same response on its own TLS database endpoint (a database runs on the node that received its
// POST /v1/bdbs, so one database is created through each node); after the leader is SIGKILLed another node
// takes over the polling, the survivors keep stapling, and POST /v1/ocsp/test through a survivor still works.
import { execFile } from 'node:child_process';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import type { TestCertificate } from '../helpers/pki.js';
import { freeDbPort, waitFor, waitForActive } from '../helpers/redis-cli.js';

const admin: Credentials = { email: 'admin@cluster.local', password: 'Admin-Password-1' };
const LEASE_TTL_SECONDS = 4;

let etcd: TestEtcd;
let responder: OcspResponder;
let proxy: TestCertificate;
let nodes: TestNode[] = [];
/** The database endpoint port served by each node (same index as nodes). */
const dbPorts: number[] = [];
let leader: TestNode;

const call = (node: TestNode, method: string, urlPath: string, body?: unknown): Promise<ApiResponse> =>
  apiRequest(node.port, { method, path: urlPath, body, auth: admin }, node.address);

/** Log lines of a node's poller that record a query of the responder. */
const pollerQueries = (node: TestNode): number =>
  node.output().split('\n').filter((line) => line.includes('"msg":"OCSP status updated"') || line.includes('"msg":"OCSP query failed"')).length;

async function leaderOf(via: TestNode): Promise<TestNode | undefined> {
  const list = (await call(via, 'GET', '/v1/nodes')).json as Array<{ addr: string; status: string; is_leader: boolean }>;
  const entry = list.find((n) => n.is_leader && n.status === 'active');
  return entry === undefined ? undefined : nodes.find((n) => n.address === entry.addr);
}

function sClient(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `${host}:${port}`, '-servername', 'localhost', '-status'], { timeout: 10_000 }, (_error, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
    child.stdin?.end();
  });
}

/** The staple Node's tls client receives with requestOCSP (undefined when none was sent). */
function nodeClientStaple(host: string, port: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | undefined;
    const socket = tls.connect({ host, port, servername: 'localhost', rejectUnauthorized: false, requestOCSP: true } as tls.ConnectionOptions);
    socket.on('OCSPResponse', (response: Buffer | null) => (staple = response ?? undefined));
    socket.once('secureConnect', () => {
      socket.end();
      resolve(staple);
    });
    socket.once('error', reject);
  });
}

beforeAll(async () => {
  [etcd, responder] = await Promise.all([startEtcd(), startOcspResponder()]);
  proxy = await responder.issue({ cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:127.0.0.2', 'IP:127.0.0.3'], curve: 'P-256', freshKey: true });
  nodes = await Promise.all(
    [1, 2, 3].map((i) =>
      startTestNode({
        address: `127.0.0.${i}`,
        admin,
        args: ['--store', etcd.storeUrl, '--apply-timeout-ms', '5000', '--lease-ttl-seconds', String(LEASE_TTL_SECONDS), '--node-name', `node-${i}`],
      }),
    ),
  );
  while (dbPorts.length < nodes.length) {
    const port = await freeDbPort();
    if (!dbPorts.includes(port)) dbPorts.push(port);
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await Promise.all(nodes.map((node) => node.destroy()));
  await etcd?.destroy();
  await responder?.close();
});

describe('OCSP on a three-node cluster', () => {
  it('polls from the leader only, and every node reports the same cached GOOD status', async () => {
    // The proxy certificate as a chain, leaf then issuer, through one node; answered once every node applied it.
    const installed = await call(nodes[0]!, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: proxy.chain, key: proxy.key }], allow_identity_change: true });
    expect(installed.status, installed.text).toBe(200);
    for (const node of nodes) expect((await call(node, 'GET', '/v1/ocsp')).json.responder_url).toBe(responder.url);

    const enabled = await call(nodes[1]!, 'PUT', '/v1/ocsp', { ocsp_functionality: true });
    expect(enabled.status, enabled.text).toBe(200);
    const statuses = await waitFor('GOOD on every node', async () => {
      const all = await Promise.all(nodes.map(async (node) => (await call(node, 'GET', '/v1/ocsp/status')).json as Record<string, unknown>));
      return all.every((s) => s.cert_status === 'GOOD') ? all : undefined;
    });
    expect(statuses[0]).toMatchObject({ responder_url: responder.url, consecutive_failures: 0 });
    expect(statuses[0]!.produced_at).toEqual(expect.any(String));
    expect(statuses[1]).toEqual(statuses[0]);
    expect(statuses[2]).toEqual(statuses[0]);

    leader = (await leaderOf(nodes[2]!))!;
    expect(leader).toBeDefined();
    await waitFor('the leader to log its query', async () => pollerQueries(leader) >= 1 || undefined);
    for (const node of nodes.filter((n) => n !== leader)) expect(pollerQueries(node), `queries logged by follower ${node.address}`).toBe(0);
  });

  it('staples the same GOOD response on a TLS database endpoint of every node', async () => {
    for (const [index, node] of nodes.entries()) {
      // A database runs where it was created: one through each node.
      const created = await call(node, 'POST', '/v1/bdbs', {
        name: `stapled-${index + 1}`,
        memory_size: 50_000_000,
        port: dbPorts[index],
        tls_mode: 'enabled',
        enforce_client_authentication: 'disabled',
      });
      expect(created.status, created.text).toBe(200);
      const active = await waitForActive(nodes[0]!.port, admin, created.json.uid);
      expect(active.endpoints[0].addr).toEqual([node.address]);
    }
    const staples: Buffer[] = [];
    for (const [index, node] of nodes.entries()) {
      const out = await sClient(node.address, dbPorts[index]!);
      expect(out, node.address).toContain('OCSP Response Status: successful');
      expect(out, node.address).toContain('Cert Status: good');
      const staple = await nodeClientStaple(node.address, dbPorts[index]!);
      expect(staple, node.address).toBeInstanceOf(Buffer);
      staples.push(staple!);
    }
    expect(staples[1]!.equals(staples[0]!)).toBe(true);
    expect(staples[2]!.equals(staples[0]!)).toBe(true);
  });

  it('after the leader is SIGKILLed another node polls, the survivors keep stapling, and POST /v1/ocsp/test works through a survivor', async () => {
    const survivors = nodes.filter((n) => n !== leader);
    const killedAt = Date.now();
    await leader.kill();
    const next = await waitFor(
      'another node to lead',
      async () => {
        const found = await leaderOf(survivors[0]!);
        return found !== undefined && found !== leader ? found : undefined;
      },
      (LEASE_TTL_SECONDS + 10) * 1000,
      200,
    );
    process.stdout.write(`multi-node-ocsp: leader ${leader.address} killed, ${next.address} leads after ${Date.now() - killedAt} ms\n`);
    const follower = survivors.find((n) => n !== next)!;

    // A settings change makes the poller query at once: only the new leader does.
    const before = new Map(survivors.map((n) => [n, pollerQueries(n)]));
    expect((await call(follower, 'PUT', '/v1/ocsp', { query_frequency: 120 })).status).toBe(200);
    await waitFor('the new leader to query', async () => pollerQueries(next) > before.get(next)! || undefined, 15_000);
    expect(pollerQueries(follower)).toBe(before.get(follower));

    const test = await call(follower, 'POST', '/v1/ocsp/test');
    expect(test.status, test.text).toBe(200);
    expect(test.json).toMatchObject({ cert_status: 'GOOD', responder_url: responder.url });
    // Cached (OCSP is enabled): both survivors report the tested response.
    for (const node of survivors) {
      await waitFor(`${node.address} to report the tested response`, async () => {
        const status = (await call(node, 'GET', '/v1/ocsp/status')).json as Record<string, unknown>;
        return status.produced_at === test.json.produced_at && status.cert_status === 'GOOD' ? true : undefined;
      });
    }
    for (const node of survivors) {
      const index = nodes.indexOf(node);
      await waitFor(`${node.address} to staple good`, async () => ((await sClient(node.address, dbPorts[index]!)).includes('Cert Status: good') ? true : undefined));
    }
  });
});
