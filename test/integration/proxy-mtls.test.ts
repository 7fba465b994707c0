// The database proxy with TLS and mutual TLS against the built server: certificate users logged in by the
// proxy with their role's ACL (real redis-cli --tls and an ioredis client), refused clients (no certificate,
// another CA, expired, unauthorized subject, garbage, idle handshake) that leave other connections alone,
// rotation of the proxy certificate and TLS setting changes that affect new connections only, and the
// cluster's minimum data TLS version.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate } from '../helpers/api-client.js';
import { createCa, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';
import { freeDbPort, redisCli, waitFor, waitForActive, writePems } from '../helpers/redis-cli.js';

const O = 'Certplane Test';
let node: TestNode;
let port: number;
let dbPort: number;
let dir: string;
let proxyPem: string;
let files: Record<string, string>;
let ca: TestCertificate;
let writer: TestCertificate;
const clients: Redis[] = [];

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(port, { method, path: apiPath, body, auth: node.admin });

function tlsFor(name: string) {
  return { cacert: files['proxy.pem'] as string, cert: files[`${name}.crt`] as string, key: files[`${name}.key`] as string };
}

async function openClient(cert: TestCertificate, ca: string): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port: dbPort,
    tls: { ca, cert: cert.certificate, key: cert.key },
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  clients.push(client);
  await client.connect();
  return client;
}

function openssl(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
    );
    child.stdin?.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-mtls-'));
  node = await startTestNode({ env: { CERTPLANE_PROXY_HANDSHAKE_TIMEOUT_MS: '1500' } });
  port = node.port;
  dbPort = await freeDbPort();

  ca = await createCa({ cn: 'Client CA' });
  const otherCa = await createCa({ cn: 'Other CA' });
  writer = await issueCertificate(ca, { subject: `CN=writer,O=${O}`, eku: ['clientAuth'] });
  const reader = await issueCertificate(ca, { subject: `CN=reader,O=${O}`, eku: ['clientAuth'], freshKey: true });
  const stranger = await issueCertificate(ca, { subject: `CN=stranger,O=${O}`, eku: ['clientAuth'], freshKey: true });
  const intruder = await issueCertificate(ca, { subject: `CN=intruder,O=${O}`, eku: ['clientAuth'], freshKey: true });
  const foreign = await issueCertificate(otherCa, { subject: `CN=writer,O=${O}`, eku: ['clientAuth'], freshKey: true });
  const expired = await issueCertificate(ca, {
    subject: `CN=writer,O=${O}`,
    eku: ['clientAuth'],
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
    freshKey: true,
  });
  proxyPem = (await api('GET', '/v1/cluster/certificates')).json.proxy_cert;
  const pems: Record<string, string> = { 'proxy.pem': proxyPem };
  for (const [name, cert] of Object.entries({ writer, reader, stranger, intruder, foreign, expired })) {
    pems[`${name}.crt`] = cert.certificate;
    pems[`${name}.key`] = cert.key;
  }
  files = await writePems(dir, pems);

  const rw = await api('POST', '/v1/redis_acls', { name: 'read-write', acl: '+@all ~*' });
  const ro = await api('POST', '/v1/redis_acls', { name: 'read-only', acl: '+@read +@connection ~*' });
  const writers = await api('POST', '/v1/roles', { name: 'Writers', management: 'none' });
  const readers = await api('POST', '/v1/roles', { name: 'Readers', management: 'none' });
  for (const [name, role] of [['writer', writers], ['reader', readers]] as const) {
    const user = await api('POST', '/v1/users', { name, auth_method: 'certificate', certificate_subject_line: `CN=${name},O=${O}`, role_uids: [role.json.uid] });
    expect(user.status).toBe(200);
  }
  const created = await api('POST', '/v1/bdbs', {
    name: 'secure',
    memory_size: 50_000_000,
    port: dbPort,
    tls_mode: 'enabled',
    enforce_client_authentication: 'enabled',
    authentication_ssl_client_certs: [{ client_cert: ca.certificate }],
    client_cert_subject_validation_type: 'san_cn',
    authorized_subjects: [{ CN: 'writer' }, { CN: 'reader' }, { CN: 'stranger' }],
    roles_permissions: [
      { role_uid: writers.json.uid, redis_acl_uid: rw.json.uid },
      { role_uid: readers.json.uid, redis_acl_uid: ro.json.uid },
    ],
  });
  expect(created.status).toBe(200);
  await waitForActive(port, node.admin, created.json.uid);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await node?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('database proxy with mutual TLS', () => {
  it('logs certificate users in with their role ACL: read-write may SET, +@read gets NOPERM', async () => {
    expect((await redisCli(dbPort, ['SET', 'k', 'v'], { tls: tlsFor('writer') })).stdout).toBe('OK');
    const denied = await redisCli(dbPort, ['SET', 'k', 'other'], { tls: tlsFor('reader') });
    expect(denied.stdout).toContain('NOPERM');
    expect((await redisCli(dbPort, ['GET', 'k'], { tls: tlsFor('reader') })).stdout).toBe('v');
    // No AUTH was sent by the client: the proxy logged it in as the certificate user.
    expect((await redisCli(dbPort, ['ACL', 'WHOAMI'], { tls: tlsFor('writer') })).stdout).toBe('writer');
    // A trusted, authorized certificate that maps to no user gets an unauthenticated (default user) connection.
    expect((await redisCli(dbPort, ['ACL', 'WHOAMI'], { tls: tlsFor('stranger') })).stdout).toBe('default');
  });

  it('serves a Node Redis client (ioredis over TLS with a client certificate)', async () => {
    const client = await openClient(writer, proxyPem);
    expect(await client.set('node-client', '42')).toBe('OK');
    expect(await client.get('node-client')).toBe('42');
    expect(await client.call('ACL', 'WHOAMI')).toBe('writer');
  });

  it('refuses no certificate, another CA, expired, unauthorized subject and garbage without disturbing open connections', async () => {
    const open = await openClient(writer, proxyPem);
    await open.set('counter', '0');
    const refusals: Array<[string, Promise<{ stdout: string; stderr: string }>, RegExp]> = [
      ['no certificate', redisCli(dbPort, ['PING'], { tls: { cacert: files['proxy.pem'] as string } }), /no client certificate/],
      ['another CA', redisCli(dbPort, ['PING'], { tls: tlsFor('foreign') }), /not trusted/],
      ['expired', redisCli(dbPort, ['PING'], { tls: tlsFor('expired') }), /certificate_expired/],
      ['unauthorized subject', redisCli(dbPort, ['PING'], { tls: tlsFor('intruder') }), /subject not authorized/],
    ];
    for (const [what, pending, reason] of refusals) {
      const result = await pending;
      expect({ what, refused: result.stdout !== 'PONG' }).toEqual({ what, refused: true });
      expect({ what, said: `${result.stdout} ${result.stderr}` }).toEqual({ what, said: expect.stringMatching(reason) });
      await open.incr('counter');
    }
    // Garbage instead of a ClientHello: the connection is closed, the reason logged.
    const garbage = net.connect(dbPort, '127.0.0.1');
    garbage.on('error', () => undefined);
    await new Promise<void>((resolve) => garbage.once('connect', () => resolve()));
    garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => garbage.once('close', () => resolve()));
    await open.incr('counter');

    expect(await open.get('counter')).toBe('5');
    // Log lines arrive through the child's stdout pipe, possibly after the client saw the refusal.
    for (const reason of ['no client certificate', 'certificate_expired', 'subject not authorized', 'TLS handshake failed']) {
      await waitFor(`the refusal '${reason}' in the log`, async () => node.output().includes(reason), 5000);
    }
    expect(node.output()).toContain('database connection refused');
  });

  it('drops idle handshakes (slowloris) after the handshake timeout, others unaffected', async () => {
    const open = await openClient(writer, proxyPem);
    const idle = net.connect(dbPort, '127.0.0.1');
    idle.on('error', () => undefined);
    const started = Date.now();
    idle.write(Buffer.from([0x16, 0x03, 0x01])); // the first bytes of a ClientHello, then nothing
    await new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(8000);
    expect(await open.ping()).toBe('PONG');
    await waitFor('the handshake timeout in the log', async () => /TLS handshake failed[^"]*(timeout|TIMEOUT)/i.test(node.output()), 5000);
  });

  it('rotates the proxy certificate for new connections while open ones keep every reply', async () => {
    const open = await openClient(writer, proxyPem);
    await open.set('rotation', '0');
    let running = true;
    let sent = 0;
    const loop = (async () => {
      while (running && sent < 5000) {
        await open.incr('rotation');
        sent++;
      }
    })();
    const rotated = await selfSigned({ cn: 'proxy-rotated', sans: ['IP:127.0.0.1', 'DNS:localhost'], freshKey: true });
    const put = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: rotated.certificate, key: rotated.key }], allow_identity_change: true });
    expect(put.status).toBe(200);
    const seen = await waitFor('the new proxy certificate on new connections', async () => {
      const cert = await peerCertificate(dbPort);
      return cert.fingerprint256 === rotated.x509.fingerprint256 ? cert : undefined;
    });
    expect(seen.subject).toContain('proxy-rotated');
    running = false;
    await loop;
    expect(sent).toBeGreaterThan(0);
    expect(Number(await open.get('rotation'))).toBe(sent);
    // New clients trust the new certificate.
    const rotatedPem = (await writePems(dir, { 'rotated.pem': rotated.certificate }))['rotated.pem'] as string;
    expect((await redisCli(dbPort, ['GET', 'k'], { tls: { ...tlsFor('writer'), cacert: rotatedPem } })).stdout).toBe('v');
    proxyPem = rotated.certificate;
    files['proxy.pem'] = rotatedPem;
  });

  it('applies changed database TLS settings to new connections only', async () => {
    const open = await openClient(writer, proxyPem);
    const put = await api('PUT', '/v1/bdbs/1', { client_cert_subject_validation_type: 'full_subject', authorized_subjects: [{ CN: 'reader', O }] });
    expect(put.status).toBe(200);
    await waitForActive(port, node.admin, 1);
    // The writer's chain was checked (and remembered, src/proxy/chain-checks.ts) on earlier connections: what
    // was remembered goes with the old settings.
    await waitFor('the writer to be refused on new connections', async () => (await redisCli(dbPort, ['PING'], { tls: tlsFor('writer') })).stdout.includes('subject not authorized'));
    expect((await redisCli(dbPort, ['GET', 'k'], { tls: tlsFor('reader') })).stdout).toBe('v');
    expect(await open.set('still-open', 'yes')).toBe('OK');

    const back = await api('PUT', '/v1/bdbs/1', { client_cert_subject_validation_type: 'san_cn', authorized_subjects: [{ CN: 'writer' }, { CN: 'reader' }] });
    expect(back.status).toBe(200);
    await waitForActive(port, node.admin, 1);
    await waitFor('the writer to be accepted again', async () => (await redisCli(dbPort, ['PING'], { tls: tlsFor('writer') })).stdout === 'PONG');
  });

  it('honours the cluster min_data_TLS_version', async () => {
    const sClient = (version: string) => openssl(['s_client', '-connect', `127.0.0.1:${dbPort}`, version, '-cert', files['writer.crt'] as string, '-key', files['writer.key'] as string]);
    expect((await sClient('-tls1_2')).output).toMatch(/Protocol\s*:\s*TLSv1\.2|TLSv1\.2/);
    const set = await api('PUT', '/v1/cluster', { min_data_TLS_version: '1.3' });
    expect(set.status).toBe(200);
    await waitFor('TLS 1.2 to be refused', async () => !/New, TLSv1\.2/.test((await sClient('-tls1_2')).output));
    expect((await sClient('-tls1_3')).output).toMatch(/New, TLSv1\.3/);
    expect((await api('PUT', '/v1/cluster', { min_data_TLS_version: '1.2' })).status).toBe(200);
  });

  it('accepts a client whose own (leaf) certificate was uploaded, skipping subject validation', async () => {
    const foreignPem = (await api('GET', '/v1/bdbs/1')).json.authentication_ssl_client_certs as Array<{ client_cert: string }>;
    const { readFile } = await import('node:fs/promises');
    const foreignLeaf = await readFile(files['foreign.crt'] as string, 'utf8');
    expect((await redisCli(dbPort, ['PING'], { tls: tlsFor('foreign') })).stdout).not.toBe('PONG');
    // The leaf is issued by a CA the database does not trust, and its CN is listed nowhere: uploading the
    // certificate itself trusts exactly that client.
    const put = await api('PUT', '/v1/bdbs/1', {
      authentication_ssl_client_certs: [...foreignPem, { client_cert: foreignLeaf }],
      client_cert_subject_validation_type: 'san_cn',
      authorized_subjects: [{ CN: 'reader' }],
    });
    expect(put.status).toBe(200);
    await waitForActive(port, node.admin, 1);
    await waitFor('the uploaded leaf to be accepted', async () => (await redisCli(dbPort, ['SET', 'from-leaf', '1'], { tls: tlsFor('foreign') })).stdout === 'OK');
    // Its issuer's other certificates are still refused, and subject validation still applies to CA-issued ones.
    expect((await redisCli(dbPort, ['PING'], { tls: tlsFor('writer') })).stdout).toContain('subject not authorized');
    const back = await api('PUT', '/v1/bdbs/1', { authentication_ssl_client_certs: foreignPem, authorized_subjects: [{ CN: 'writer' }, { CN: 'reader' }] });
    expect(back.status).toBe(200);
    await waitForActive(port, node.admin, 1);
    await waitFor('the writer to be accepted again', async () => (await redisCli(dbPort, ['PING'], { tls: tlsFor('writer') })).stdout === 'PONG');
  });

  it('refuses a certificate user whose ACL redis rejects instead of falling back to the default user', async () => {
    const acl = await api('POST', '/v1/redis_acls', { name: 'broken', acl: '+nosuchcommand ~*' });
    expect(acl.status).toBe(200);
    const role = await api('POST', '/v1/roles', { name: 'Broken', management: 'none' });
    const user = await api('POST', '/v1/users', { name: 'stranger', auth_method: 'certificate', certificate_subject_line: `CN=stranger,O=${O}`, role_uids: [role.json.uid] });
    expect(user.status).toBe(200);
    const current = (await api('GET', '/v1/bdbs/1')).json.roles_permissions as unknown[];
    const put = await api('PUT', '/v1/bdbs/1', {
      roles_permissions: [...current, { role_uid: role.json.uid, redis_acl_uid: acl.json.uid }],
      authorized_subjects: [{ CN: 'writer' }, { CN: 'reader' }, { CN: 'stranger' }],
    });
    expect(put.status).toBe(200);
    await waitForActive(port, node.admin, 1);
    let last = '';
    const refused = await waitFor('the stranger to be refused', async () => {
      const result = await redisCli(dbPort, ['ACL', 'WHOAMI'], { tls: tlsFor('stranger') });
      last = `${result.stdout} ${result.stderr}`;
      return result.stdout.includes('login failed') ? result : undefined;
    }, 5000).catch((error: unknown) => {
      throw new Error(`${String(error)}; last: ${last}; log: ${node.output().split('\n').filter((l) => /ACL|login|stranger|error/i.test(l)).slice(-5).join('\n')}`);
    });
    expect(refused.stdout).not.toContain('default');
    await waitFor('the rejected ACL in the log', async () => node.output().includes('redis rejected the ACL of a database user'), 5000);
    expect((await redisCli(dbPort, ['SET', 'k', 'v'], { tls: tlsFor('writer') })).stdout).toBe('OK');
    expect((await api('PUT', '/v1/bdbs/1', { roles_permissions: current, authorized_subjects: [{ CN: 'writer' }, { CN: 'reader' }] })).status).toBe(200);
    await waitForActive(port, node.admin, 1);
  });

  it('trusts client certificates from the cluster mtls_trusted_ca as well', async () => {
    const clusterCa = await createCa({ cn: 'Cluster Client CA' });
    const member = await issueCertificate(clusterCa, { subject: `CN=writer,O=${O}`, eku: ['clientAuth'], freshKey: true });
    const paths = await writePems(dir, { 'member.crt': member.certificate, 'member.key': member.key });
    expect((await redisCli(dbPort, ['PING'], { tls: { cacert: files['proxy.pem'] as string, cert: paths['member.crt'] as string, key: paths['member.key'] as string } })).stdout).not.toBe('PONG');
    const put = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: clusterCa.certificate }] });
    expect(put.status).toBe(200);
    await waitFor('a client of the cluster CA to be accepted', async () => {
      const result = await redisCli(dbPort, ['SET', 'from-cluster-ca', '1'], { tls: { cacert: files['proxy.pem'] as string, cert: paths['member.crt'] as string, key: paths['member.key'] as string } });
      return result.stdout === 'OK';
    });
  });
});
