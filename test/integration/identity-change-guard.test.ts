// Issue 15.3, the identity-change guard (a certplane extension), against one real node: a PUT that replaces
// api, cm or proxy with a certificate that drops a DNS name or IP the current one covers, or that chains to a
// different root, is refused with 409 identity_change naming what would be lost and changes nothing; with
// "allow_identity_change": true it goes through. The certificates certplane generated are exempt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';

const PUT = '/v1/cluster/certificates';
const NAMES = ['DNS:api.example.test', 'DNS:*.nodes.example.test', '127.0.0.1'];

let node: TestNode;
let rootA: TestCertificate;
let rootB: TestCertificate;
let intermediateA: TestCertificate;

const put = (body: unknown, path = PUT): Promise<ApiResponse> => apiRequest(node.port, { method: 'PUT', path, body, auth: node.admin });
const item = (name: string, cert: TestCertificate, chain = true): Record<string, string> => ({ name, certificate: chain ? cert.chain : cert.certificate, key: cert.key });
const leaf = (issuer: TestCertificate, sans: string[], cn = 'api.example.test'): Promise<TestCertificate> => issueCertificate(issuer, { cn, sans, freshKey: true });

async function refused(body: unknown, path = PUT): Promise<ApiResponse> {
  const response = await expectNoChange(node.dataDir, () => put(body, path));
  expect(response.status, response.text).toBe(409);
  expect(response.json.error_code).toBe('identity_change');
  expect(response.json.message).toBe(response.json.description);
  return response;
}

async function accepted(body: unknown, path = PUT): Promise<void> {
  const response = await put(body, path);
  expect(response.status, response.text).toBe(200);
}

beforeAll(async () => {
  node = await startTestNode();
  [rootA, rootB] = await Promise.all([createCa({ cn: 'Guard Root A' }), createCa({ cn: 'Guard Root B' })]);
  intermediateA = await issueCertificate(rootA, { cn: 'Guard Intermediate A', isCa: true, freshKey: true });
  // Day one: the certplane-generated self-signed defaults are replaced by CA-issued ones without the flag.
  const [api, cm, proxy] = await Promise.all([leaf(intermediateA, NAMES), leaf(intermediateA, NAMES, 'cm.example.test'), leaf(rootA, ['DNS:proxy.example.test'])]);
  await accepted({ certificates: [item('api', api), item('cm', cm), item('proxy', proxy)] });
}, 120_000);

afterAll(async () => {
  await node?.destroy();
});

describe('identity-change guard', () => {
  it('accepts a renewal from the same root that keeps every name (chain with or without the root)', async () => {
    const again = await leaf(intermediateA, ['DNS:API.example.test.', ...NAMES.slice(1)]);
    await accepted({ certificates: [{ name: 'api', certificate: again.certificate + intermediateA.certificate, key: again.key }] });
    expect((await peerCertificate(node.port)).fingerprint256).toBe(again.x509.fingerprint256);
    const renewed = await leaf(intermediateA, [...NAMES].reverse());
    await accepted({ certificates: [item('api', renewed)] });
  });

  it('refuses a certificate that drops a DNS name and an IP with 409 identity_change naming both', async () => {
    const narrower = await leaf(intermediateA, ['DNS:api.example.test', 'DNS:*.nodes.example.test']);
    const response = await refused({ certificates: [item('api', narrower)] });
    expect(response.json.description).toContain('127.0.0.1');
    expect(response.json.errors).toEqual([
      expect.objectContaining({ name: 'api', error_code: 'identity_change', lost_names: [], lost_ips: ['127.0.0.1'] }),
    ]);
    const noWildcard = await leaf(intermediateA, ['DNS:api.example.test', 'DNS:a.nodes.example.test', '127.0.0.1']);
    const second = await refused({ certificates: [item('api', noWildcard)] });
    expect(second.json.errors[0].lost_names).toEqual(['*.nodes.example.test']);
  });

  it('treats a wildcard as covering a name one label below it, but names never as covering a wildcard', async () => {
    // proxy covers proxy.example.test; *.example.test covers it.
    const wildcard = await leaf(rootA, ['DNS:*.example.test'], 'wild');
    await accepted({ certificates: [item('proxy', wildcard)] });
    const specific = await leaf(rootA, ['DNS:proxy.example.test'], 'proxy');
    const response = await refused({ certificates: [item('proxy', specific)] });
    expect(response.json.errors[0].lost_names).toEqual(['*.example.test']);
  });

  it('refuses a certificate from a different root with 409 naming the old and new root subjects', async () => {
    const foreign = await leaf(rootB, NAMES);
    const response = await refused({ certificates: [item('api', foreign)] });
    expect(response.json.errors[0]).toMatchObject({ old_root: 'CN=Guard Root A', new_root: 'CN=Guard Root B', lost_names: [], lost_ips: [] });
    // A self-signed certificate with the same names is a different root as well.
    const self = await selfSigned({ cn: 'api.example.test', sans: NAMES, freshKey: true });
    const selfResponse = await refused({ certificates: [item('api', self, false)] });
    expect(selfResponse.json.errors[0].new_root).toBe('CN=api.example.test');
  });

  it('refuses an impostor root that only copies the root subject (different key), when both chains carry the root', async () => {
    const impostor = await createCa({ cn: 'Guard Root A' });
    const impostorIntermediate = await issueCertificate(impostor, { cn: 'Guard Intermediate A', isCa: true, freshKey: true });
    const cert = await leaf(impostorIntermediate, NAMES);
    await refused({ certificates: [item('api', cert)] });
  });

  it('lists every refused item of a multi-certificate PUT in errors, and installs none of them', async () => {
    const [api, cm, syncer] = await Promise.all([leaf(rootB, NAMES), leaf(intermediateA, ['DNS:other.example.test'], 'cm2'), selfSigned({ cn: 'syncer.test', freshKey: true })]);
    const response = await refused({ certificates: [item('api', api), item('cm', cm), item('syncer', syncer, false)] });
    expect(response.json.errors.map((e: { name: string }) => e.name)).toEqual(['api', 'cm']);
    expect(response.json.errors[1].lost_names).toEqual(['api.example.test', '*.nodes.example.test']);
    expect(response.json.errors[1].lost_ips).toEqual(['127.0.0.1']);
  });

  it('refuses on the deprecated PUT /v1/cluster/update_cert too', async () => {
    const foreign = await leaf(rootB, NAMES);
    await refused(item('api', foreign), '/v1/cluster/update_cert');
  });

  it('uses the CN when the current certificate has no DNS or IP SAN', async () => {
    const cnOnly = await leaf(rootA, [], 'cn-only.example.test');
    await accepted({ certificates: [item('proxy', cnOnly)], allow_identity_change: true });
    const other = await leaf(rootA, ['DNS:elsewhere.example.test'], 'cn-only.example.test');
    const response = await refused({ certificates: [item('proxy', other)] });
    expect(response.json.errors[0].lost_names).toEqual(['cn-only.example.test']);
    const covering = await leaf(rootA, ['DNS:cn-only.example.test'], 'anything');
    await accepted({ certificates: [item('proxy', covering)] });
  });

  it('does not guard the other certificate names (syncer, metrics_exporter...)', async () => {
    const [a, b] = await Promise.all([selfSigned({ cn: 'one.test', freshKey: true }), selfSigned({ cn: 'two.test', freshKey: true })]);
    await accepted({ certificates: [item('syncer', a, false)] });
    await accepted({ certificates: [item('syncer', b, false)] });
  });

  it('rejects a non-boolean allow_identity_change with 400 invalid_schema and changes nothing', async () => {
    const foreign = await leaf(rootB, NAMES);
    for (const value of ['true', 1, null, { yes: true }]) {
      const response = await expectNoChange(node.dataDir, () => put({ certificates: [item('api', foreign)], allow_identity_change: value }));
      expect(response.status, response.text).toBe(400);
      expect(response.json.error_code).toBe('invalid_schema');
    }
    const response = await expectNoChange(node.dataDir, () => put({ ...item('api', foreign), allow_identity_change: 'yes' }, '/v1/cluster/update_cert'));
    expect(response.status).toBe(400);
  });

  it('replaces with allow_identity_change: true (both endpoints), and the new certificate is served', async () => {
    const foreign = await leaf(rootB, ['DNS:new.example.test', '127.0.0.1']);
    await accepted({ certificates: [item('api', foreign)], allow_identity_change: true });
    expect((await peerCertificate(node.port)).fingerprint256).toBe(foreign.x509.fingerprint256);
    const back = await leaf(intermediateA, ['DNS:back.example.test', '127.0.0.1']);
    await accepted({ ...item('api', back), allow_identity_change: true }, '/v1/cluster/update_cert');
    expect((await peerCertificate(node.port)).fingerprint256).toBe(back.x509.fingerprint256);
  });
});
