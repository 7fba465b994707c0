// Internal certificate rotation (issue 14 item 1) on one real node (SQLite): POST /v1/cluster/certificates/rotate
// regenerates the internode certificates from the internal CA (new fingerprints, new keys, every file a matching
// pair), never a customer-provided one; unknown and non-internal names, bad bodies and callers without
// update_cluster change nothing; GET/PUT /v1/job_scheduler validates its cron expression and ranges; the
// scheduled job rotates when the cron fires and stops when disabled; the internal CA renewal publishes the
// old+new trust bundle first, re-issues the internode certificates from the new CA, and retires the old CA after
// the overlap.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createTestUser } from '../helpers/test-users.js';
import { waitUntil } from '../helpers/cluster-calls.js';
import { createCa, issueCertificate } from '../helpers/pki.js';

const INTERNODE = ['ccs_internode_encryption', 'data_internode_encryption'] as const;

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
  // The scheduled job stays off unless a test turns it on (the default hourly cron could fire during a test).
  const off = await call('PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { enabled: false } });
  expect(off.status, off.text).toBe(200);
});

afterAll(async () => {
  await node?.destroy();
});

function call(method: string, urlPath: string, body?: unknown, auth: Credentials = node.admin): Promise<ApiResponse> {
  return apiRequest(node.port, { method, path: urlPath, body, auth }, node.address);
}

/** The leaf fingerprint of each internode certificate as the API has it. */
async function storedFingerprints(): Promise<Record<string, string>> {
  const response = await call('GET', '/v1/cluster/certificates');
  expect(response.status).toBe(200);
  return Object.fromEntries(INTERNODE.map((name) => [name, new X509Certificate(response.json[`${name}_cert`] as string).fingerprint256]));
}

/** What a node has on disk for a certificate: the leaf's fingerprint, whether the key matches, and the chain. */
export async function filesOf(dataDir: string, name: string): Promise<{ fingerprint: string; pairMatches: boolean; chain: string }> {
  const dir = path.join(dataDir, 'certs');
  const [chain, key] = await Promise.all([readFile(path.join(dir, `${name}_cert.pem`), 'utf8'), readFile(path.join(dir, `${name}_key.pem`), 'utf8')]);
  const leaf = new X509Certificate(chain);
  return { fingerprint: leaf.fingerprint256, pairMatches: leaf.checkPrivateKey(createPrivateKey(key)), chain };
}

/** The certificates of the internal trust bundle file every node writes. */
async function trustBundleOf(dataDir: string): Promise<X509Certificate[]> {
  const pem = await readFile(path.join(dataDir, 'certs', 'internal_ca_trust_cert.pem'), 'utf8');
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

function verifiesAgainst(chain: string, cas: X509Certificate[]): boolean {
  const leaf = new X509Certificate(chain);
  return cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
}

describe('POST /v1/cluster/certificates/rotate on one node', () => {
  it('regenerates both internode certificates with new keys; the files on disk are the new matching pairs', async () => {
    const before = await storedFingerprints();
    const response = await call('POST', '/v1/cluster/certificates/rotate');
    expect(response.status, response.text).toBe(200);
    expect((response.json.rotated as Array<{ name: string }>).map((r) => r.name).sort()).toEqual([...INTERNODE]);
    const after = await storedFingerprints();
    const trust = await trustBundleOf(node.dataDir);
    expect(trust).toHaveLength(1);
    for (const name of INTERNODE) {
      expect(after[name]).not.toBe(before[name]);
      const files = await filesOf(node.dataDir, name);
      expect(files).toMatchObject({ fingerprint: after[name], pairMatches: true });
      expect(verifiesAgainst(files.chain, trust)).toBe(true);
    }
    // The audit trail names the rotation.
    const logs = await call('GET', '/v1/logs?order=desc&limit=20');
    expect(logs.json.filter((e: { type: string; reason?: string }) => e.type === 'certificate_updated' && e.reason === 'internal_rotation').length).toBeGreaterThanOrEqual(2);
  });

  it('rotates only the named internode certificate', async () => {
    const before = await storedFingerprints();
    const response = await call('POST', '/v1/cluster/certificates/rotate', { name: 'ccs_internode_encryption' });
    expect(response.status, response.text).toBe(200);
    const after = await storedFingerprints();
    expect(after.ccs_internode_encryption).not.toBe(before.ccs_internode_encryption);
    expect(after.data_internode_encryption).toBe(before.data_internode_encryption);
    expect(await filesOf(node.dataDir, 'ccs_internode_encryption')).toMatchObject({ fingerprint: after.ccs_internode_encryption, pairMatches: true });
  });

  it.each([
    ['a certificate that is not internal', { name: 'api' }, 403, 'unsupported_certificate_rotation'],
    ['an unknown name', { name: 'no_such_certificate' }, 403, 'unsupported_certificate_rotation'],
    ['an unknown field', { name: 'ccs_internode_encryption', force: true }, 400, 'invalid_schema'],
    ['a name that is not a string', { name: 7 }, 400, 'invalid_schema'],
    ['overlap_seconds without the internal CA', { name: 'ccs_internode_encryption', overlap_seconds: 5 }, 400, 'invalid_schema'],
  ])('refuses %s and changes nothing', async (_what, body, status, code) => {
    const response = await expectNoChange(node, () => call('POST', '/v1/cluster/certificates/rotate', body));
    expect(response.status, response.text).toBe(status);
    expect(response.json.error_code).toBe(code);
  });

  it('never rotates a customer-provided internode certificate: skipped without a name, 403 when named', async () => {
    const ca = await createCa({ cn: 'Customer Internode CA' });
    const customer = await issueCertificate(ca, { cn: 'cluster.local', sans: ['DNS:cluster.local', '127.0.0.1'], eku: ['serverAuth', 'clientAuth'], freshKey: true });
    const put = await call('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'data_internode_encryption', certificate: customer.chain, key: customer.key }] });
    expect(put.status, put.text).toBe(200);
    const before = await storedFingerprints();
    expect(before.data_internode_encryption).toBe(customer.x509.fingerprint256);

    const named = await expectNoChange(node, () => call('POST', '/v1/cluster/certificates/rotate', { name: 'data_internode_encryption' }));
    expect(named.status, named.text).toBe(403);
    expect(named.json.error_code).toBe('unsupported_certificate_rotation');

    const all = await call('POST', '/v1/cluster/certificates/rotate');
    expect(all.status, all.text).toBe(200);
    expect(all.json.skipped).toEqual([{ name: 'data_internode_encryption', reason: 'customer_provided' }]);
    const after = await storedFingerprints();
    expect(after.data_internode_encryption).toBe(customer.x509.fingerprint256);
    expect(after.ccs_internode_encryption).not.toBe(before.ccs_internode_encryption);
    expect(await filesOf(node.dataDir, 'data_internode_encryption')).toMatchObject({ fingerprint: customer.x509.fingerprint256, pairMatches: true });
  });

  it.each(['cluster_viewer', 'db_member'] as const)('answers 403 to a %s and changes nothing (rotate, PUT job_scheduler)', async (role) => {
    const user = await createTestUser(node, role);
    const rotate = await expectNoChange(node, () => call('POST', '/v1/cluster/certificates/rotate', undefined, user));
    expect(rotate.status).toBe(403);
    expect(rotate.json.error_code).toBe('insufficient_permissions');
    const put = await expectNoChange(node, () => call('PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { enabled: true } }, user));
    expect(put.status).toBe(403);
    const get = await call('GET', '/v1/job_scheduler', undefined, user);
    expect(get.status).toBe(200);
  });
});

describe('GET/PUT /v1/job_scheduler', () => {
  it('returns the RS job objects with RS defaults, cert_rotation_job_settings as stored', async () => {
    const response = await call('GET', '/v1/job_scheduler');
    expect(response.status).toBe(200);
    expect(response.json.cert_rotation_job_settings).toEqual({ cron_expression: '0 * * * *', enabled: false, expiry_days_before_rotation: 60 });
    expect(response.json.rotate_ccs_job_settings).toEqual({ cron_expression: '*/5 * * * *', enabled: true, file_suffix: '5min', rotate_max_num: 24 });
    expect(Object.keys(response.json).sort()).toEqual([
      'backup_job_settings',
      'bdb_usage_report_job_settings',
      'cert_rotation_job_settings',
      'log_rotation_job_settings',
      'node_checks_job_settings',
      'redis_cleanup_job_settings',
      'rotate_ccs_job_settings',
    ]);
  });

  it.each([
    ['an invalid cron expression', { cert_rotation_job_settings: { cron_expression: 'every day at noon' } }, 'invalid_cron_expression'],
    ['a cron field out of range', { cert_rotation_job_settings: { cron_expression: '61 * * * *' } }, 'invalid_cron_expression'],
    ['a bad cron expression in another job', { backup_job_settings: { cron_expression: '* * *' } }, 'invalid_cron_expression'],
    ['expiry_days_before_rotation 0', { cert_rotation_job_settings: { expiry_days_before_rotation: 0 } }, 'invalid_schema'],
    ['expiry_days_before_rotation 91', { cert_rotation_job_settings: { expiry_days_before_rotation: 91 } }, 'invalid_schema'],
    ['expiry_days_before_rotation 1.5', { cert_rotation_job_settings: { expiry_days_before_rotation: 1.5 } }, 'invalid_schema'],
    ['expiry_days_before_rotation as a string', { cert_rotation_job_settings: { expiry_days_before_rotation: '30' } }, 'invalid_schema'],
    ['enabled as a string', { cert_rotation_job_settings: { enabled: 'yes' } }, 'invalid_schema'],
    ['an unknown job', { coffee_job_settings: { enabled: true } }, 'invalid_schema'],
    ['an unknown field', { cert_rotation_job_settings: { cron_expression: '0 * * * *', jitter: 5 } }, 'invalid_schema'],
  ])('refuses %s with 400 and changes nothing', async (_what, body, code) => {
    const response = await expectNoChange(node, () => call('PUT', '/v1/job_scheduler', body));
    expect(response.status, response.text).toBe(400);
    expect(response.json.error_code).toBe(code);
  });

  it('merges a partial PUT and returns the full object', async () => {
    const response = await call('PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { expiry_days_before_rotation: 30 } });
    expect(response.status, response.text).toBe(200);
    expect(response.json.cert_rotation_job_settings).toEqual({ cron_expression: '0 * * * *', enabled: false, expiry_days_before_rotation: 30 });
    expect((await call('GET', '/v1/job_scheduler')).json).toEqual(response.json);
  });

  it('the scheduled job rotates nothing that is not due, rotates what is, and stops when disabled', async () => {
    const customer = (await storedFingerprints()).data_internode_encryption; // still customer-provided
    const start = await storedFingerprints();
    // Every second, 30 days: the 90-day internode certificates are not due.
    let put = await call('PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { cron_expression: '* * * * * *', enabled: true, expiry_days_before_rotation: 30 } });
    expect(put.status, put.text).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await storedFingerprints()).toEqual(start);
    // 90 days: a 90-day certificate is always within 90 days of expiry, so every firing rotates it.
    put = await call('PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { expiry_days_before_rotation: 90 } });
    expect(put.status, put.text).toBe(200);
    await waitUntil(async () => (await storedFingerprints()).ccs_internode_encryption !== start.ccs_internode_encryption, 20_000, 'the job rotated ccs_internode_encryption');
    put = await call('PUT', '/v1/job_scheduler', { cert_rotation_job_settings: { enabled: false } });
    expect(put.status, put.text).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a firing already under way ends
    const stopped = await storedFingerprints();
    expect(stopped.data_internode_encryption).toBe(customer); // never the customer's
    expect(await filesOf(node.dataDir, 'ccs_internode_encryption')).toMatchObject({ fingerprint: stopped.ccs_internode_encryption, pairMatches: true });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await storedFingerprints()).toEqual(stopped);
    expect(node.output()).toContain('internal certificate rotated by the scheduled job');
  });
});

describe('renewing the internal CA', () => {
  it('trusts old and new CA during the overlap, re-issues the internode certificates from the new CA, then retires the old CA', async () => {
    const oldTrust = await trustBundleOf(node.dataDir);
    expect(oldTrust).toHaveLength(1);
    const oldCa = oldTrust[0]!;
    const before = await filesOf(node.dataDir, 'ccs_internode_encryption');
    expect(verifiesAgainst(before.chain, [oldCa])).toBe(true);

    const response = await call('POST', '/v1/cluster/certificates/rotate', { name: 'internal_ca', overlap_seconds: 4 });
    expect(response.status, response.text).toBe(200);
    expect(response.json.internal_ca).toMatchObject({ new_fingerprint: expect.any(String), retire_after: expect.any(String) });
    // During the overlap: both CAs in the bundle; the internal certificate now comes from the new CA, which the
    // bundle trusts, and a verifier still holding a certificate of the old CA keeps trusting it too.
    const overlap = await trustBundleOf(node.dataDir);
    expect(overlap.map((c) => c.fingerprint256)).toContain(oldCa.fingerprint256);
    expect(overlap).toHaveLength(2);
    const newCa = overlap.find((c) => c.fingerprint256 !== oldCa.fingerprint256)!;
    const after = await filesOf(node.dataDir, 'ccs_internode_encryption');
    expect(after.pairMatches).toBe(true);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(verifiesAgainst(after.chain, [newCa])).toBe(true);
    expect(verifiesAgainst(after.chain, [oldCa])).toBe(false);
    expect(verifiesAgainst(before.chain, overlap)).toBe(true);
    // The customer's certificate is left alone.
    expect(response.json.skipped).toEqual([{ name: 'data_internode_encryption', reason: 'customer_provided' }]);

    // After the overlap the leader's job drops the old CA from the bundle (the job itself is disabled: the end
    // of a renewal does not wait for the cron expression).
    await waitUntil(async () => (await trustBundleOf(node.dataDir)).length === 1, 30_000, 'the old CA was retired');
    const retired = await trustBundleOf(node.dataDir);
    expect(retired[0]!.fingerprint256).toBe(newCa.fingerprint256);
    expect(verifiesAgainst(before.chain, retired)).toBe(false);
    expect(verifiesAgainst((await filesOf(node.dataDir, 'ccs_internode_encryption')).chain, retired)).toBe(true);
    const logs = await call('GET', '/v1/logs?order=desc&limit=50');
    expect(logs.json.some((e: { type: string }) => e.type === 'internal_ca_retired')).toBe(true);
  });
});
