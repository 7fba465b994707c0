// Subject lines as people write them (issue 10 item 1, issue 17 item 9) against a real node: the reference
// page's example body sent as is, logins with curl --cert and redis-cli --tls for users whose subject lines
// were written with spaces, escapes and multi-valued RDNs, one user per distinguished name however it is
// spelled, input that can never match (control characters, huge lines, bad encodings) refused, and a
// settings change that would leave no way to log in refused. Every refusal changes nothing.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';
import { freeDbPort, redisCli, waitForActive, writePems } from '../helpers/redis-cli.js';

const run = promisify(execFile);

/** The reference certificate-user page's example body, byte for byte in its layout (only the values filled in). */
const PAGE_LINE = 'CN=page-user, OU=Engineering, O=Acme, L=San Francisco, ST=California, C=US';
const PAGE_BODY = `{"auth_method": "certificate", "certificate_subject_line": "${PAGE_LINE}"}`;

let node: TestNode;
let dir: string;
let ca: TestCertificate;
let files: Record<string, string>;
const certs: Record<string, TestCertificate> = {};

const api = (request: Omit<ApiRequest, 'auth'> & { auth?: ApiRequest['auth'] }): Promise<ApiResponse> =>
  apiRequest(node.port, { auth: node.admin, ...request });
const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> => api({ method, path: p, body });

/** curl with a client certificate and no password; the status and parsed body. */
async function curlWithCert(name: string, urlPath: string, method = 'GET', body?: unknown): Promise<{ status: number; json: any }> {
  const args = ['-sk', '--cert', files[`${name}.crt`] as string, '--key', files[`${name}.key`] as string, '-X', method, '-w', '\n%{http_code}'];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  const { stdout } = await run('curl', [...args, `https://127.0.0.1:${node.port}${urlPath}`]);
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  return { status: Number(stdout.slice(cut + 1)), json: text === '' ? undefined : JSON.parse(text) };
}

/** The certificate's subject as openssl prints it in RFC 2253 (what an operator would copy). */
function subjectOf(cert: TestCertificate): string {
  return new X509Certificate(cert.certificate).subject;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-subject-'));
  node = await startTestNode();
  ca = await createCa({ cn: 'Subject Test CA' });
  const subjects: Record<string, string> = {
    page: 'CN=page-user,OU=Engineering,O=Acme,L=San Francisco,ST=California,C=US',
    root: 'CN=root-cert,O=Acme',
    dbuser: 'CN=db-user,OU=Data,O=Acme\\, Inc,C=US',
    nobody: 'CN=nobody,O=Acme\\, Inc',
  };
  const pems: Record<string, string> = {};
  for (const [name, subject] of Object.entries(subjects)) {
    certs[name] = await issueCertificate(ca, { subject, eku: ['clientAuth'], freshKey: true });
    pems[`${name}.crt`] = certs[name].certificate;
    pems[`${name}.key`] = certs[name].key;
  }
  // A multi-valued RDN (CN + UID), made by openssl and signed by the CA (the TypeScript helper writes one value per RDN).
  await writePems(dir, { 'ca.crt': ca.certificate, 'ca.key': ca.key, 'ext.cnf': 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' });
  const at = (f: string): string => path.join(dir, f);
  await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('svc.key'), '-out', at('svc.csr'), '-utf8', '-multivalue-rdn', '-subj', '/O=Acme, Inc/CN=svc+UID=42']);
  await run('openssl', ['x509', '-req', '-in', at('svc.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-set_serial', '0x5a17', '-days', '2', '-extfile', at('ext.cnf'), '-out', at('svc.crt')]);
  const proxyPem = (await asAdmin('GET', '/v1/cluster/certificates')).json.proxy_cert as string;
  pems['proxy.pem'] = proxyPem;
  files = { ...(await writePems(dir, pems)), 'svc.crt': path.join(dir, 'svc.crt'), 'svc.key': path.join(dir, 'svc.key') };

  const upload = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
  expect(upload.status, upload.text).toBe(200);
  const enable = await asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });
  expect(enable.status, enable.text).toBe(200);
}, 120_000);

afterAll(async () => {
  await node?.destroy();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('certificate users created from subject lines as people write them', () => {
  it("accepts the reference page's example body as is: named after the CN, role none, the line kept as sent", async () => {
    const created = await api({ method: 'POST', path: '/v1/users', rawBody: PAGE_BODY });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({
      name: 'page-user',
      auth_method: 'certificate',
      certificate_subject_line: PAGE_LINE,
      email: '',
      role: 'none',
      role_uids: [6],
    });
    // The certificate's subject has no spaces; the user logs in with curl --cert and no password.
    expect(subjectOf(certs.page!)).toContain('CN=page-user');
    const role = await curlWithCert('page', '/v1/users/role');
    expect(role).toMatchObject({ status: 200, json: { uid: created.json.uid, name: 'page-user', role: 'none', authenticated_with: 'certificate' } });
    // Role none: logged in, allowed nothing until a role is granted.
    expect((await curlWithCert('page', '/v1/cluster')).status).toBe(403);
    const grant = await asAdmin('PUT', `/v1/users/${created.json.uid}`, { role: 'cluster_viewer' });
    expect(grant.status, grant.text).toBe(200);
    expect((await curlWithCert('page', '/v1/cluster')).status).toBe(200);
  });

  it('refuses the same body again with 409 (the subject is taken), changing nothing', async () => {
    const again = await expectNoChange(node.dataDir, () => api({ method: 'POST', path: '/v1/users', rawBody: PAGE_BODY }));
    expect(again.status).toBe(409);
    expect(again.json.error_code).toBe('subject_line_already_exists');
  });

  it.each([
    ['without spaces', 'CN=page-user,OU=Engineering,O=Acme,L=San Francisco,ST=California,C=US'],
    ['with lower-case types and spaces around "="', 'cn = page-user , ou = Engineering, o=Acme, l=San Francisco, st=California, c=US'],
    ['with a hex pair for a letter', 'CN=page-\\75ser, OU=Engineering, O=Acme, L=San Francisco, ST=California, C=US'],
  ])('refuses the same DN spelled %s with 409, changing nothing', async (_how, line) => {
    const response = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { name: 'someone-else', auth_method: 'certificate', certificate_subject_line: line }),
    );
    expect(response.status, response.text).toBe(409);
    expect(response.json.error_code).toBe('subject_line_already_exists');
  });

  it('treats \\2C and \\, as one name: the second user is a 409, changing nothing', async () => {
    const first = await asAdmin('POST', '/v1/users', { name: 'acme-1', auth_method: 'certificate', certificate_subject_line: 'CN=Acme\\, Inc, O=x' });
    expect(first.status, first.text).toBe(200);
    const second = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { name: 'acme-2', auth_method: 'certificate', certificate_subject_line: 'CN=Acme\\2C Inc,O=x' }),
    );
    expect(second.status).toBe(409);
    expect(second.json.error_code).toBe('subject_line_already_exists');
    // Renaming another user's line onto it is refused the same way.
    const other = await asAdmin('POST', '/v1/users', { name: 'acme-3', auth_method: 'certificate', certificate_subject_line: 'CN=Acme Inc, O=x' });
    const moved = await expectNoChange(node.dataDir, () =>
      asAdmin('PUT', `/v1/users/${other.json.uid}`, { certificate_subject_line: 'CN="Acme, Inc",O=x' }),
    );
    expect(moved.status).toBe(409);
  });

  it('answers 409 name_already_exists when the CN names an existing user, changing nothing', async () => {
    const regular = await asAdmin('POST', '/v1/users', { name: 'carol', email: 'carol@example.com', password: 'Carol-Password-1' });
    expect(regular.status, regular.text).toBe(200);
    const response = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { auth_method: 'certificate', certificate_subject_line: 'CN=carol, O=Acme' }),
    );
    expect(response.status).toBe(409);
    expect(response.json.error_code).toBe('name_already_exists');
  });

  it('logs in a user whose line has spaces, a multi-valued RDN in another order and a hex pair', async () => {
    const created = await asAdmin('POST', '/v1/users', {
      auth_method: 'certificate',
      certificate_subject_line: 'UID = 42 + CN = svc , O = Acme\\2C Inc',
      role: 'db_viewer',
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({ name: 'svc', certificate_subject_line: 'UID = 42 + CN = svc , O = Acme\\2C Inc' });
    const { stdout } = await run('openssl', ['x509', '-in', files['svc.crt'] as string, '-noout', '-subject', '-nameopt', 'RFC2253']);
    expect(stdout.trim()).toBe('subject=UID=42+CN=svc,O=Acme\\, Inc');
    expect(await curlWithCert('svc', '/v1/users/role')).toMatchObject({ status: 200, json: { uid: created.json.uid, name: 'svc', role: 'db_viewer' } });
  });

  const FORM = 'expected form: "CN=<Common Name>, OU=<Organization Unit>, O=<Organization>, L=<Locality>, ST=<State/Province>, C=<Country>"';
  it.each([
    ['forward order', 'C=US, ST=California, O=Acme, CN=fwd', 'forward order (CN last); a subject line lists them most specific first: "CN=fwd, O=Acme, ST=California, C=US"'],
    ['an unknown attribute', 'CN=x, STREET=Main', 'unknown attribute type "STREET"'],
    ['an empty value', 'CN=', 'the value of CN is empty'],
    ['an empty value later', 'CN=x, O= ', 'the value of O is empty'],
    ['a NUL', 'CN=x\u0000y', 'control character U+0000'],
    ['a newline', 'CN=x\nO=y', 'control character U+000A'],
    ['a carriage return', 'CN=x\r', 'control character U+000D'],
    ['an escaped NUL', 'CN=x\\00y', 'control character U+0000'],
    ['an unpaired surrogate (JSON "\\ud800")', 'CN=x\ud800', 'unpaired UTF-16 surrogate U+D800'],
    ['1 000 RDNs', `CN=a${',C=x'.repeat(999)}`, 'more than 64 attributes'],
    ['a missing "="', 'CN alice', 'expected "="'],
  ])('refuses a line with %s: 400 invalid_subject_line saying what is wrong and the expected form, changing nothing', async (_what, line, reason) => {
    for (const name of ['named', undefined]) {
      const response = await expectNoChange(node.dataDir, () =>
        asAdmin('POST', '/v1/users', { name, auth_method: 'certificate', certificate_subject_line: line }),
      );
      expect(response.status, response.text).toBe(400);
      expect(response.json.error_code).toBe('invalid_subject_line');
      expect(response.json.description).toContain(reason);
      expect(response.json.description).toContain(FORM);
    }
  });

  it('refuses a 10 000-character line with 400, changing nothing', async () => {
    const response = await expectNoChange(node.dataDir, () =>
      asAdmin('POST', '/v1/users', { auth_method: 'certificate', certificate_subject_line: `CN=${'a'.repeat(9_997)}` }),
    );
    expect(response.status).toBe(400);
    expect(response.json.description).toMatch(/4096/);
  });

  it('refuses a body that is not UTF-8 and a non-UTF-8 charset with 400, changing nothing', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('{"name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('","auth_method":"certificate","certificate_subject_line":"CN=caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}'),
    ]);
    const bad = await expectNoChange(node.dataDir, () => api({ method: 'POST', path: '/v1/users', rawBody: latin1 }));
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error_code: 'invalid_schema', description: 'The request body is not valid UTF-8' });
    const charset = await expectNoChange(node.dataDir, () =>
      api({ method: 'POST', path: '/v1/users', rawBody: '{"name":"x","auth_method":"certificate","certificate_subject_line":"CN=x"}', contentType: 'application/json; charset=latin1' }),
    );
    expect(charset.status).toBe(400);
    expect(charset.json.error_code).toBe('invalid_schema');
    expect(charset.json.description).toContain('charset=latin1');
    // The same body declared as UTF-8 is fine.
    const ok = await api({ method: 'POST', path: '/v1/users?dry_run=true', rawBody: '{"name":"x","auth_method":"certificate","certificate_subject_line":"CN=x"}', contentType: 'application/json; charset=UTF-8' });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe('settings that would leave no way to log in', () => {
  let rootUid: number;

  it('refuses Basic authentication off while certificate authentication is off, changing nothing', async () => {
    const off = await asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: false });
    expect(off.status, off.text).toBe(200);
    const response = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster', { control_plane_basic_authentication: false }));
    expect(response.status).toBe(406);
    expect(response.json.error_code).toBe('no_login_method');
    const both = await expectNoChange(node.dataDir, () =>
      asAdmin('PUT', '/v1/cluster', { control_plane_basic_authentication: false, mtls_certificate_authentication: false }),
    );
    expect(both.status).toBe(406);
    const on = await asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: true });
    expect(on.status, on.text).toBe(200);
  });

  it('refuses certificate authentication off while Basic authentication is off, changing nothing', async () => {
    const root = await asAdmin('POST', '/v1/users', { auth_method: 'certificate', certificate_subject_line: 'CN=root-cert, O=Acme', role: 'admin' });
    expect(root.status, root.text).toBe(200);
    rootUid = root.json.uid;
    const basicOff = await asAdmin('PUT', '/v1/cluster', { control_plane_basic_authentication: false });
    expect(basicOff.status, basicOff.text).toBe(200);
    try {
      expect((await asAdmin('GET', '/v1/cluster')).status).toBe(401);
      const response = await expectNoChange(node.dataDir, () => curlWithCert('root', '/v1/cluster', 'PUT', { mtls_certificate_authentication: false }));
      expect(response.status).toBe(406);
      expect(response.json.error_code).toBe('no_login_method');
      expect((await curlWithCert('root', '/v1/users/role')).json).toMatchObject({ uid: rootUid, role: 'admin' });
    } finally {
      expect((await curlWithCert('root', '/v1/cluster', 'PUT', { control_plane_basic_authentication: true })).status).toBe(200);
    }
    expect((await asAdmin('GET', '/v1/cluster')).status).toBe(200);
  });
});

describe('database mutual TLS maps certificates through the same canonical form', () => {
  it('logs in with redis-cli a user created with spaces and a hex pair, via full_subject authorized_subjects', async () => {
    const acl = await asAdmin('POST', '/v1/redis_acls', { name: 'rw-subject', acl: '+@all ~*' });
    const role = await asAdmin('POST', '/v1/roles', { name: 'Subject Writers', management: 'none' });
    expect(acl.status, acl.text).toBe(200);
    expect(role.status, role.text).toBe(200);
    const user = await asAdmin('POST', '/v1/users', {
      auth_method: 'certificate',
      certificate_subject_line: 'CN = db-user , OU = Data , O = Acme\\2C Inc , C = US',
      role_uids: [role.json.uid],
    });
    expect(user.status, user.text).toBe(200);
    expect(user.json.name).toBe('db-user');
    const dbPort = await freeDbPort();
    const created = await asAdmin('POST', '/v1/bdbs', {
      name: 'subject-db',
      memory_size: 50_000_000,
      port: dbPort,
      tls_mode: 'enabled',
      enforce_client_authentication: 'enabled',
      authentication_ssl_client_certs: [{ client_cert: ca.certificate }],
      client_cert_subject_validation_type: 'full_subject',
      authorized_subjects: [
        { CN: 'db-user', O: 'Acme, Inc', OU: ['Data'], C: 'US' },
        { CN: 'nobody', O: 'Acme, Inc' },
      ],
      roles_permissions: [{ role_uid: role.json.uid, redis_acl_uid: acl.json.uid }],
    });
    expect(created.status, created.text).toBe(200);
    await waitForActive(node.port, node.admin, created.json.uid);
    const tlsAs = (name: string) => ({ cacert: files['proxy.pem'] as string, cert: files[`${name}.crt`] as string, key: files[`${name}.key`] as string });

    const set = await redisCli(dbPort, ['SET', 'subject-key', 'v'], { tls: tlsAs('dbuser') });
    expect(set.stdout, set.stderr).toBe('OK');
    const whoami = (await redisCli(dbPort, ['ACL', 'WHOAMI'], { tls: tlsAs('dbuser') })).stdout;
    expect(whoami).not.toBe('default');
    expect(whoami === 'db-user' || /^__cert_\d+$/.test(whoami)).toBe(true);
    // An authorized certificate that maps to no user is not logged in as anyone.
    expect((await redisCli(dbPort, ['ACL', 'WHOAMI'], { tls: tlsAs('nobody') })).stdout).toBe('default');
  }, 120_000);
});
