// Bounded work per unauthenticated byte (issue 17.4): a long chain of self-issued huge-exponent CAs presented
// to the REST API (keep-alive, many requests) and to a database endpoint, a trust bundle of huge-exponent
// CAs and a listener certificate with an oversized RSA key on upload. Each is refused quickly; the measured
// times are printed (`bounded-work:` lines) for the README and the report.
import https from 'node:https';
import tls from 'node:tls';
import { createPublicKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, hugeExponentKeyPair, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';
import { freeDbPort, waitForActive } from '../helpers/redis-cli.js';

let node: TestNode;
let dbPort: number;
let root: TestCertificate;
let attackChain: string;
let attackLeaf: TestCertificate;
let hugeCas: TestCertificate[];

const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path: p, body, auth: node.admin });

beforeAll(async () => {
  node = await startTestNode();
  dbPort = await freeDbPort();
  root = await createCa({ cn: 'Bounded Root' });
  // 70 self-issued CAs with one name and one huge-exponent key: every signature check with it is expensive.
  const keyPair = await hugeExponentKeyPair(2048);
  const first = await selfSigned({ cn: 'Evil CA', isCa: true, keyPair });
  hugeCas = [first, ...(await Promise.all(Array.from({ length: 69 }, () => selfSigned({ cn: 'Evil CA', isCa: true, keyPair }))))];
  attackLeaf = await issueCertificate(first, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
  attackChain = attackLeaf.certificate + hugeCas.map((c) => c.certificate).join('');

  expect((await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: root.certificate }] })).status).toBe(200);
  expect((await asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' })).status).toBe(200);
  const created = await asAdmin('POST', '/v1/bdbs', {
    name: 'bounded',
    memory_size: 50_000_000,
    port: dbPort,
    tls_mode: 'enabled',
    enforce_client_authentication: 'enabled',
    authentication_ssl_client_certs: [{ client_cert: root.certificate }],
  });
  expect(created.status, created.text).toBe(200);
  await waitForActive(node.port, node.admin, created.json.uid);
}, 180_000);

afterAll(async () => {
  await node?.destroy();
});

/** `count` requests on one keep-alive connection with the attack chain: their statuses and the mean time. */
async function keepAliveRequests(count: number): Promise<{ statuses: number[]; meanMs: number; firstMs: number }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const response = await apiRequest(node.port, { path: '/v1/users/role', cert: attackChain, key: attackLeaf.key, agent });
      times.push(performance.now() - started);
      statuses.push(response.status);
    }
  } finally {
    agent.destroy();
  }
  const rest = times.slice(1);
  return { statuses, firstMs: times[0] ?? 0, meanMs: rest.reduce((a, b) => a + b, 0) / Math.max(1, rest.length) };
}

describe('bounded work per unauthenticated byte', () => {
  it('refuses a 71-certificate huge-exponent chain on the REST API at once, and keeps later requests of the connection cheap', async () => {
    await keepAliveRequests(2); // warm-up
    const { statuses, firstMs, meanMs } = await keepAliveRequests(20);
    console.log(`bounded-work: REST, 71-certificate huge-exponent chain: first request ${firstMs.toFixed(1)} ms, then ${meanMs.toFixed(1)} ms per request (keep-alive)`);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const refusal = await apiRequest(node.port, { path: '/v1/users/role', cert: attackChain, key: attackLeaf.key });
    expect(refusal.json.description).toMatch(/presented \d+ certificates; at most 10/);
    expect(meanMs).toBeLessThan(60);
    // Basic auth is unaffected meanwhile.
    expect((await asAdmin('GET', '/v1/cluster')).status).toBe(200);
  }, 120_000);

  it('refuses the same chain on a database endpoint quickly', async () => {
    const times: number[] = [];
    let said = '';
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      said = await new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: dbPort, rejectUnauthorized: false, cert: attackChain, key: attackLeaf.key }, () => socket.write('PING\r\n'));
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(data));
      });
      times.push(performance.now() - started);
    }
    const mean = times.slice(1).reduce((a, b) => a + b, 0) / (times.length - 1);
    console.log(`bounded-work: database, 71-certificate huge-exponent chain: ${mean.toFixed(1)} ms per connection (handshake and refusal)`);
    expect(said).toMatch(/not trusted: certificate_not_trusted.*at most 10/);
    expect(said).not.toContain('PONG');
  }, 120_000);

  it('refuses a 140-certificate huge-exponent trust bundle with 400 weak_key quickly, changing nothing', async () => {
    const bundle = [...hugeCas, ...hugeCas].map((c) => c.certificate).join('');
    const started = performance.now();
    const response = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: bundle }] }));
    console.log(`bounded-work: upload of a 140-certificate huge-exponent mtls_trusted_ca bundle: ${(performance.now() - started).toFixed(1)} ms`);
    expect(response.status, response.text).toBe(400);
    expect(response.json.error_code).toBe('weak_key');
    expect(response.json.description).toMatch(/exponent/);
    const bdb = await expectNoChange(node.dataDir, () => asAdmin('POST', '/v1/bdbs', { name: 'huge', memory_size: 1, tls_mode: 'enabled', authentication_ssl_client_certs: [{ client_cert: hugeCas[0]!.certificate }] }));
    expect(bdb.status, bdb.text).toBe(400);
    expect(bdb.json.error_code).toBe('weak_key');
  }, 120_000);

  it('refuses a listener certificate with a 16384-bit RSA key (400 weak_key), changing nothing', async () => {
    // The certificate carries a 16384-bit public key (a random odd modulus: generating a real one takes minutes
    // here; the bound reads only the length), signed by a normal CA.
    const modulus = randomBytes(2048);
    modulus[0] = modulus[0]! | 0x80;
    modulus[2047] = modulus[2047]! | 1;
    const publicKey = createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: 'AQAB' }, format: 'jwk' });
    const ca = await createCa({ cn: 'Listener CA' });
    const holder = await issueCertificate(ca, { cn: 'api.example.com' });
    const big = await issueCertificate(ca, { cn: 'api.example.com', keyPair: { privateKey: holder.privateKey, publicKey } });
    const response = await expectNoChange(node.dataDir, () =>
      asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: big.chain, key: holder.key }] }),
    );
    expect(response.status, response.text).toBe(400);
    expect(response.json.error_code).toBe('weak_key');
    expect(response.json.description).toMatch(/RSA 16384 bits \(at most 8192/);
  }, 60_000);
});
