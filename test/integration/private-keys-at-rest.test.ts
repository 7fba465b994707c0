// Private keys at rest (issue 17.10, issue 10.8 encrypt_pkeys), against built nodes:
// - a replaced private key is gone from the store's history: on SQLite not a byte of it in the database file
//   or its write-ahead log; on etcd not in any readable revision (every revision read through the etcd3 client);
// - encrypt_pkeys: every node's key files become PKCS#8 ENCRYPTED PRIVATE KEY that openssl cannot read without
//   the node's own <data-dir>/pkey-kek (0600, never in the store); TLS (API, database) and rotation still work;
//   turning it off writes plain files again.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate, type ApiResponse } from '../helpers/api-client.js';
import { selfSigned, type TestCertificate } from '../helpers/pki.js';
import { startEtcd, type TestEtcd } from '../helpers/start-etcd.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { freeDbPort, redisCli, waitFor, waitForActive, writePems } from '../helpers/redis-cli.js';

const call = (node: TestNode, method: string, urlPath: string, body?: unknown): Promise<ApiResponse> =>
  apiRequest(node.port, { method, path: urlPath, body, auth: node.admin }, node.address);

const newApiCertificate = (): Promise<TestCertificate> =>
  selfSigned({ cn: 'cluster.local', sans: ['DNS:cluster.local', '127.0.0.1', '127.0.0.2'], curve: 'P-256', freshKey: true });

const putApi = (node: TestNode, cert: TestCertificate): Promise<ApiResponse> =>
  call(node, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: cert.certificate, key: cert.key }], allow_identity_change: true });

/** The full 64-character base64 lines of a PEM body: each is a piece of the key no other key shares. */
function bodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => /^[A-Za-z0-9+/]{64}$/.test(line));
}

/** Every byte SQLite keeps for a node's store: the database file and its write-ahead log. */
async function sqliteBytes(node: TestNode): Promise<Buffer> {
  const file = path.join(node.dataDir, 'ccs.sqlite');
  return Buffer.concat(await Promise.all([file, `${file}-wal`, `${file}-journal`].map((f) => readFile(f).catch(() => Buffer.alloc(0)))));
}

function openssl(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, { timeout: 10_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }));
  });
}

const keyFiles = async (node: TestNode): Promise<string[]> =>
  (await readdir(path.join(node.dataDir, 'certs'))).filter((name) => name.endsWith('_key.pem')).map((name) => path.join(node.dataDir, 'certs', name));

/** Every key file of the node is encrypted: openssl cannot read it without a passphrase, can with the KEK file,
 *  and the key it holds is the pair of the certificate beside it. */
async function expectEncryptedKeyFiles(node: TestNode): Promise<void> {
  const kek = path.join(node.dataDir, 'pkey-kek');
  const files = await keyFiles(node);
  expect(files.length).toBeGreaterThan(3);
  for (const file of files) {
    const content = await readFile(file, 'utf8');
    expect(content, file).toMatch(/^-{5}BEGIN ENCRYPTED PRIVATE KEY-{5}\n/);
    expect((await openssl(['pkey', '-in', file, '-noout', '-passin', 'pass:'])).code, file).not.toBe(0);
    expect((await openssl(['pkey', '-in', file, '-noout', '-passin', `file:${kek}`])).code, file).toBe(0);
    const certificate = new X509Certificate(await readFile(file.replace(/_key\.pem$/, '_cert.pem'), 'utf8'));
    const passphrase = (await readFile(kek, 'utf8')).trim();
    expect(certificate.checkPrivateKey(createPrivateKey({ key: content, passphrase })), file).toBe(true);
  }
  expect((await stat(kek)).mode & 0o777).toBe(0o600);
}

async function expectPlainKeyFiles(node: TestNode): Promise<void> {
  for (const file of await keyFiles(node)) {
    expect(await readFile(file, 'utf8'), file).toMatch(/^-{5}BEGIN (EC |RSA )?PRIVATE KEY-{5}\n/);
    expect((await openssl(['pkey', '-in', file, '-noout', '-passin', 'pass:'])).code, file).toBe(0);
  }
}

describe('single node on SQLite', () => {
  let node: TestNode;
  let dir: string;
  beforeAll(async () => {
    node = await startTestNode();
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-keys-'));
  });
  afterAll(async () => {
    await node?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('replacing the api certificate and key leaves no byte of the old key in the database file or its WAL', async () => {
    const oldKey = await readFile(path.join(node.dataDir, 'certs', 'api_key.pem'), 'utf8');
    const oldLines = bodyLines(oldKey);
    expect(oldLines.length).toBeGreaterThan(2);
    // The probe works: the key in use is in the store's bytes.
    expect((await sqliteBytes(node)).includes(oldLines[1]!)).toBe(true);

    const first = await newApiCertificate();
    expect((await putApi(node, first)).status).toBe(200);
    const second = await newApiCertificate();
    expect((await putApi(node, second)).status).toBe(200);
    expect((await peerCertificate(node.port)).fingerprint256).toBe(new X509Certificate(second.certificate).fingerprint256);

    const bytes = await sqliteBytes(node);
    for (const line of [...oldLines, ...bodyLines(first.key)]) expect(bytes.includes(line), line).toBe(false);
    expect(bytes.includes(bodyLines(second.key)[1]!)).toBe(true);
  });

  it('deleting a certificate that has a key (ldap_client) leaves no byte of its key in the store files', async () => {
    const ldap = await selfSigned({ cn: 'ldap-client', curve: 'P-256', freshKey: true });
    const put = await call(node, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'ldap_client', certificate: ldap.certificate, key: ldap.key }] });
    expect(put.status, put.text).toBe(200);
    const probe = bodyLines(ldap.key)[0] ?? ldap.key.split('\n')[1]!;
    expect((await sqliteBytes(node)).includes(probe)).toBe(true);
    expect((await call(node, 'DELETE', '/v1/cluster/certificates/ldap_client')).status).toBe(200);
    expect((await sqliteBytes(node)).includes(probe)).toBe(false);
  });

  it('GET /v1/cluster shows encrypt_pkeys off by default, and a value that is not a boolean is refused with nothing changed', async () => {
    expect((await call(node, 'GET', '/v1/cluster')).json.encrypt_pkeys).toBe(false);
    const refused = await expectNoChange(node.dataDir, () => call(node, 'PUT', '/v1/cluster', { encrypt_pkeys: 'yes' }));
    expect(refused.status).toBe(400);
    await expectPlainKeyFiles(node);
  });

  it('encrypt_pkeys on: key files encrypted with a 0600 per-node KEK that is nowhere in the store; API and database TLS and rotation still work; off: plain again', async () => {
    // A TLS database first, so its proxy is serving when the setting changes.
    const dbPort = await freeDbPort();
    const created = await call(node, 'POST', '/v1/bdbs', { name: 'tls-db', memory_size: 50_000_000, port: dbPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' });
    expect(created.status, created.text).toBe(200);
    await waitForActive(node.port, node.admin, created.json.uid);

    const on = await call(node, 'PUT', '/v1/cluster', { encrypt_pkeys: true });
    expect(on.status, on.text).toBe(200);
    expect(on.json.encrypt_pkeys).toBe(true);
    expect((await call(node, 'GET', '/v1/cluster')).json.encrypt_pkeys).toBe(true);
    await expectEncryptedKeyFiles(node);
    const kek = (await readFile(path.join(node.dataDir, 'pkey-kek'), 'utf8')).trim();
    expect((await sqliteBytes(node)).includes(kek)).toBe(false);

    // Still serving TLS: the API, and the database through the proxy.
    const rotated = await newApiCertificate();
    expect((await putApi(node, rotated)).status).toBe(200);
    expect((await peerCertificate(node.port)).fingerprint256).toBe(new X509Certificate(rotated.certificate).fingerprint256);
    await expectEncryptedKeyFiles(node);
    const apiKeyFile = await readFile(path.join(node.dataDir, 'certs', 'api_key.pem'), 'utf8');
    expect(createPrivateKey({ key: apiKeyFile, passphrase: kek }).export({ type: 'pkcs8', format: 'pem' })).toBe(
      createPrivateKey(rotated.key).export({ type: 'pkcs8', format: 'pem' }),
    );
    const proxyPem = (await call(node, 'GET', '/v1/cluster/certificates')).json.proxy_cert as string;
    const files = await writePems(dir, { 'proxy.pem': proxyPem });
    const pong = await waitFor('the TLS database to answer', async () => {
      const result = await redisCli(dbPort, ['PING'], { tls: { cacert: files['proxy.pem']! } });
      return result.stdout === 'PONG' ? result : undefined;
    });
    expect(pong.stdout).toBe('PONG');
    expect((await sqliteBytes(node)).includes(kek)).toBe(false);

    const off = await call(node, 'PUT', '/v1/cluster', { encrypt_pkeys: false });
    expect(off.status, off.text).toBe(200);
    await expectPlainKeyFiles(node);
    expect(await readFile(path.join(node.dataDir, 'certs', 'api_key.pem'), 'utf8')).toBe(rotated.key);
  });
});

describe('two nodes on etcd', () => {
  let etcd: TestEtcd;
  let nodes: TestNode[] = [];
  let client: Etcd3;

  beforeAll(async () => {
    etcd = await startEtcd();
    const args = (i: number): string[] => ['--store', etcd.storeUrl, '--apply-timeout-ms', '10000', '--lease-ttl-seconds', '5', '--node-name', `node-${i}`];
    nodes = [await startTestNode({ address: '127.0.0.1', args: args(1) })];
    nodes.push(await startTestNode({ address: '127.0.0.2', args: args(2) }));
    client = new Etcd3({ hosts: [etcd.url] });
  });
  afterAll(async () => {
    client?.close();
    await Promise.all(nodes.map((node) => node.destroy()));
    await etcd?.destroy();
  });

  /** Reads the whole keyspace at every revision etcd still has; returns the values and how many were compacted. */
  async function everyRevision(): Promise<{ values: string[]; compacted: number; revisions: number }> {
    const current = Number((await client.getAll().exec()).header.revision);
    const values: string[] = [];
    let compacted = 0;
    for (let revision = 1; revision <= current; revision++) {
      try {
        const response = await client.getAll().revision(revision).exec();
        values.push(...response.kvs.map((kv) => kv.value.toString()));
      } catch (error) {
        expect(String(error)).toMatch(/compacted/);
        compacted++;
      }
    }
    return { values, compacted, revisions: current };
  }

  it('replacing the api certificate and key: no revision etcd can still read holds the old key, and both nodes converge', async () => {
    const oldKey = await readFile(path.join(nodes[0]!.dataDir, 'certs', 'api_key.pem'), 'utf8');
    const probe = bodyLines(oldKey)[1]!;
    expect((await everyRevision()).values.some((value) => value.includes(probe))).toBe(true);

    const next = await newApiCertificate();
    const response = await putApi(nodes[0]!, next);
    expect(response.status, response.text).toBe(200);
    const fingerprint = new X509Certificate(next.certificate).fingerprint256;
    for (const node of nodes) expect((await peerCertificate(node.port, node.address)).fingerprint256).toBe(fingerprint);

    const history = await everyRevision();
    expect(history.compacted).toBeGreaterThan(0);
    expect(history.values.some((value) => value.includes(probe))).toBe(false);
    expect(history.values.some((value) => value.includes(bodyLines(next.key)[1]!))).toBe(true);
    // A watch of the whole history from the start is cancelled by etcd (compacted).
    const watched: string[] = [];
    const watcher = client.watch().prefix('/').startRevision('1').watcher();
    const outcome = await new Promise<string>((resolve) => {
      watcher.on('put', (kv) => watched.push(kv.value.toString()));
      watcher.on('error', (error) => resolve(String(error)));
      setTimeout(() => resolve('no error'), 3000);
    });
    // A watcher etcd already cancelled never answers a cancel: do not wait for it.
    void watcher.cancel().catch(() => undefined);
    expect(outcome).toMatch(/compact|cancel/i);
    expect(watched.some((value) => value.includes(probe))).toBe(false);

    // Still converging after the compaction: another change reaches both nodes.
    const later = await newApiCertificate();
    expect((await putApi(nodes[1]!, later)).status).toBe(200);
    for (const node of nodes) expect((await peerCertificate(node.port, node.address)).fingerprint256).toBe(new X509Certificate(later.certificate).fingerprint256);
  });

  it('encrypt_pkeys on every node, each with its own KEK, neither in etcd', async () => {
    const on = await call(nodes[1]!, 'PUT', '/v1/cluster', { encrypt_pkeys: true });
    expect(on.status, on.text).toBe(200);
    const keks: string[] = [];
    for (const node of nodes) {
      await expectEncryptedKeyFiles(node);
      keks.push((await readFile(path.join(node.dataDir, 'pkey-kek'), 'utf8')).trim());
    }
    expect(keks[0]).not.toBe(keks[1]);
    const values = (await everyRevision()).values;
    for (const kek of keks) expect(values.some((value) => value.includes(kek))).toBe(false);
    for (const node of nodes) expect((await peerCertificate(node.port, node.address)).subject).toContain('cluster.local');
  });
});
