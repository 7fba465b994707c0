// Certificate-based login on the REST API (issue 5): real client certificates, curl and Node's https
// client against a real node, every subject validation type and every failure, and proof that
// rejected requests change nothing.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;

describe('REST API certificate authentication', () => {
  let node: TestNode;
  let dir: string;
  let ca: TestCertificate;
  let otherCa: TestCertificate;
  let alice: TestCertificate;
  let aliceUid: number;

  const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> =>
    apiRequest(node.port, { method, path: p, body, auth: node.admin });
  const withCert = (cert: TestCertificate, p = '/v1/users/role', extra: { method?: string; body?: unknown } = {}): Promise<ApiResponse> =>
    apiRequest(node.port, { path: p, cert: cert.certificate, key: cert.key, ...extra });
  /** What the API port asks for in its CertificateRequest on a fresh handshake. */
  const requestedClientCas = async (): Promise<string> => {
    const { stdout } = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${node.port} </dev/null 2>/dev/null`]);
    if (/No client certificate CA names sent/.test(stdout)) return 'none requested';
    return /Acceptable client certificate CA names\n([^\n]*)/.exec(stdout)?.[1] ?? 'unknown';
  };
  const setCluster = async (body: Record<string, unknown>): Promise<void> => {
    const response = await asAdmin('PUT', '/v1/cluster', body);
    expect(response.status, response.text).toBe(200);
  };

  beforeAll(async () => {
    node = await startTestNode();
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-mtls-'));
    [ca, otherCa] = await Promise.all([createCa({ cn: 'Client CA' }), createCa({ cn: 'Other CA' })]);
    alice = await issueCertificate(ca, { subject: 'CN=alice,OU=eng,O=Acme', sans: ['DNS:alice.example.com'], eku: ['clientAuth'] });
    const created = await asAdmin('POST', '/v1/users', {
      name: 'alice',
      auth_method: 'certificate',
      certificate_subject_line: 'CN=alice,OU=eng,O=Acme',
      role: 'cluster_viewer',
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({ auth_method: 'certificate', certificate_subject_line: 'CN=alice,OU=eng,O=Acme', role: 'cluster_viewer' });
    aliceUid = created.json.uid;
  });

  afterAll(async () => {
    await node?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to enable certificate authentication before mtls_trusted_ca is installed, changing nothing', async () => {
    const response = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: true }));
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('missing_trusted_ca');
  });

  it('ignores client certificates while certificate authentication is off', async () => {
    expect(await requestedClientCas()).toBe('none requested');
    const response = await withCert(alice);
    expect(response.status).toBe(401);
    expect(response.json.error_code).toBe('unauthenticated');
  });

  it('logs a certificate user in with curl and no password once mTLS is on, with that user’s role', async () => {
    const upload = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
    expect(upload.status, upload.text).toBe(200);
    await setCluster({ mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });

    expect(await requestedClientCas()).toContain('Client CA');

    const certFile = path.join(dir, 'alice.pem');
    const keyFile = path.join(dir, 'alice.key');
    await writeFile(certFile, alice.certificate);
    await writeFile(keyFile, alice.key, { mode: 0o600 });
    const { stdout } = await run('curl', ['-sk', '--cert', certFile, '--key', keyFile, '-w', '\n%{http_code}', `https://127.0.0.1:${node.port}/v1/cluster`]);
    const [body, status] = stdout.split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(body!).mtls_certificate_authentication).toBe(true);

    const role = await withCert(alice);
    expect(role.status).toBe(200);
    expect(role.json).toEqual({
      role: 'cluster_viewer',
      uid: aliceUid,
      name: 'alice',
      email: '',
      auth_method: 'certificate',
      authenticated_with: 'certificate',
    });
    // cluster_viewer may read but not write the cluster.
    const write = await expectNoChange(node.dataDir, () => withCert(alice, '/v1/cluster', { method: 'PUT', body: { password_min_length: 9 } }));
    expect(write.status).toBe(403);
    // Basic auth keeps working alongside.
    expect((await asAdmin('GET', '/v1/cluster')).status).toBe(200);
  });

  it.each([
    ['a certificate from another CA', async () => issueCertificate(otherCa, { subject: 'CN=alice,OU=eng,O=Acme' }), 'certificate_not_trusted'],
    ['a self-signed certificate', async () => selfSigned({ subject: 'CN=alice,OU=eng,O=Acme', freshKey: true }), 'certificate_not_trusted'],
    [
      'an expired certificate',
      async () => issueCertificate(ca, { subject: 'CN=alice,OU=eng,O=Acme', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
      'client_certificate_expired',
    ],
    [
      'a certificate that is not valid yet',
      async () => issueCertificate(ca, { subject: 'CN=alice,OU=eng,O=Acme', notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) }),
      'client_certificate_not_yet_valid',
    ],
    ['a subject that maps to no user', async () => issueCertificate(ca, { subject: 'CN=mallory,OU=eng,O=Acme' }), 'unknown_certificate_user'],
  ])('refuses %s with 401 and changes nothing', async (_label, make, code) => {
    const cert = await make();
    // A refused certificate login is a (rate-limited) WARNING event in /v1/logs, and changes nothing else.
    const response = await expectNoChange(node.dataDir, () => withCert(cert), { exceptEvents: true });
    expect(response.status).toBe(401);
    expect(response.json.error_code).toBe(code);
  });

  it('refuses a password sent together with a certificate', async () => {
    const response = await expectNoChange(node.dataDir, () =>
      apiRequest(node.port, { path: '/v1/users/role', cert: alice.certificate, key: alice.key, auth: node.admin }),
    );
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('ambiguous_credentials');
  });

  it('applies san_cn: the subject CN or any SAN DNS name must equal an authorized CN', async () => {
    await setCluster({ mtls_client_cert_subject_validation_type: 'san_cn', mtls_authorized_subjects: [{ CN: 'alice.example.com' }] });
    expect((await withCert(alice)).status).toBe(200);
    await setCluster({ mtls_authorized_subjects: [{ CN: 'alice' }] });
    expect((await withCert(alice)).status).toBe(200);
    await setCluster({ mtls_authorized_subjects: [{ CN: 'bob' }] });
    const refused = await expectNoChange(node.dataDir, () => withCert(alice), { exceptEvents: true });
    expect(refused.status).toBe(401);
    expect(refused.json.error_code).toBe('certificate_not_authorized');
  });

  it('applies full_subject: every attribute of an entry must match, OU as a set, case-sensitive', async () => {
    await setCluster({ mtls_client_cert_subject_validation_type: 'full_subject', mtls_authorized_subjects: [{ CN: 'alice', OU: ['eng'], O: 'Acme' }] });
    expect((await withCert(alice)).status).toBe(200);
    await setCluster({ mtls_authorized_subjects: [{ CN: 'alice', O: 'acme' }] });
    const refused = await expectNoChange(node.dataDir, () => withCert(alice), { exceptEvents: true });
    expect(refused.status).toBe(401);
    expect(refused.json.error_code).toBe('certificate_not_authorized');
    await setCluster({ mtls_client_cert_subject_validation_type: 'disabled', mtls_authorized_subjects: [] });
  });

  it('turns Basic auth off with control_plane_basic_authentication while certificates keep working', async () => {
    const admin = await issueCertificate(ca, { subject: 'CN=root-operator,O=Acme' });
    const created = await asAdmin('POST', '/v1/users', { name: 'root-operator', auth_method: 'certificate', certificate_subject_line: 'CN=root-operator,O=Acme', role: 'admin' });
    expect(created.status, created.text).toBe(200);
    await setCluster({ control_plane_basic_authentication: false });
    const basic = await apiRequest(node.port, { path: '/v1/cluster', auth: node.admin });
    expect(basic.status).toBe(401);
    expect((await withCert(alice)).status).toBe(200);
    const restore = await withCert(admin, '/v1/cluster', { method: 'PUT', body: { control_plane_basic_authentication: true } });
    expect(restore.status, restore.text).toBe(200);
    expect((await asAdmin('GET', '/v1/cluster')).status).toBe(200);
  });

  it('refuses the certificate of a user that was deleted', async () => {
    const bob = await issueCertificate(ca, { subject: 'CN=bob,O=Acme' });
    const created = await asAdmin('POST', '/v1/users', { name: 'bob', auth_method: 'certificate', certificate_subject_line: 'CN=bob,O=Acme', role: 'db_viewer' });
    expect(created.status, created.text).toBe(200);
    expect((await withCert(bob)).status).toBe(200);
    expect((await asAdmin('DELETE', `/v1/users/${created.json.uid}`)).status).toBe(200);
    const refused = await withCert(bob);
    expect(refused.status).toBe(401);
    expect(refused.json.error_code).toBe('unknown_certificate_user');
  });

  it('validates certificate_subject_line: CN first, known attribute types, unique in canonical form', async () => {
    for (const line of ['O=Acme,CN=carol', 'garbage', 'CN=carol,STREET=Main']) {
      const response = await expectNoChange(node.dataDir, () =>
        asAdmin('POST', '/v1/users', { name: `carol ${line.length}`, auth_method: 'certificate', certificate_subject_line: line, role: 'db_viewer' }),
      );
      expect(response.status, line).toBe(400);
      expect(response.json.error_code).toBe('invalid_subject_line');
    }
    const duplicate = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { name: 'alice twin', auth_method: 'certificate', certificate_subject_line: 'CN=alice,OU=eng,O=Acme', role: 'db_viewer' }),
    );
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error_code).toBe('subject_line_already_exists');
    // Spaces after the commas (the reference page's template) spell the same subject.
    const spaced = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { name: 'alice spaced', auth_method: 'certificate', certificate_subject_line: 'CN=alice, OU=eng, O=Acme', role: 'db_viewer' }),
    );
    expect(spaced.status).toBe(409);
    expect(spaced.json.error_code).toBe('subject_line_already_exists');
  });

  it('certificate users have no password: Basic auth fails and a password on create is refused', async () => {
    const response = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { name: 'dave', auth_method: 'certificate', certificate_subject_line: 'CN=dave', password: 'Secret-123', role: 'db_viewer' }),
    );
    expect(response.status).toBe(400);
  });

  it('converts a regular user to a certificate user and back', async () => {
    const created = await asAdmin('POST', '/v1/users', { name: 'erin', email: 'erin@example.com', password: 'Erin-Password-1', role: 'db_member' });
    expect(created.status, created.text).toBe(200);
    const uid = created.json.uid as number;
    const erinCert = await issueCertificate(ca, { subject: 'CN=erin,O=Acme' });
    const toCert = await asAdmin('PUT', `/v1/users/${uid}`, { auth_method: 'certificate', certificate_subject_line: 'CN=erin,O=Acme' });
    expect(toCert.status, toCert.text).toBe(200);
    expect((await withCert(erinCert)).json.role).toBe('db_member');
    const basic = await apiRequest(node.port, { path: '/v1/users/role', auth: { email: 'erin@example.com', password: 'Erin-Password-1' } });
    expect(basic.status).toBe(401);
    const back = await asAdmin('PUT', `/v1/users/${uid}`, { auth_method: 'regular', password: 'Erin-Password-2' });
    expect(back.status, back.text).toBe(200);
    expect(back.json.certificate_subject_line).toBe('');
    expect((await withCert(erinCert)).status).toBe(401);
    expect((await apiRequest(node.port, { path: '/v1/users/role', auth: { email: 'erin@example.com', password: 'Erin-Password-2' } })).status).toBe(200);
  });

  it('takes a replaced mtls_trusted_ca into account without a restart, and refuses to delete it while mTLS is on', async () => {
    const refusedDelete = await expectNoChange(node.dataDir, () => asAdmin('DELETE', '/v1/cluster/certificates/mtls_trusted_ca'));
    expect(refusedDelete.status).toBe(403);
    expect(refusedDelete.json.error_code).toBe('certificate_in_use');

    const replace = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: otherCa.certificate }] });
    expect(replace.status, replace.text).toBe(200);
    expect((await withCert(alice)).json.error_code).toBe('certificate_not_trusted');
    const aliceFromOther = await issueCertificate(otherCa, { subject: 'CN=alice,OU=eng,O=Acme' });
    expect((await withCert(aliceFromOther)).status).toBe(200);

    expect(await requestedClientCas()).toContain('Other CA');

    await setCluster({ mtls_certificate_authentication: false });
    expect(await requestedClientCas()).toBe('none requested');
    expect((await asAdmin('DELETE', '/v1/cluster/certificates/mtls_trusted_ca')).status).toBe(200);
    expect((await withCert(aliceFromOther)).status).toBe(401);
  });
});
