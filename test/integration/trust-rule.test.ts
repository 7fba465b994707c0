// The trust rule of DESIGN.md on both doors, databases (redis-cli --tls through the proxy) and the REST API
// (curl --cert): only a CA certificate issues (CA:TRUE, keyCertSign where keyUsage is present, pathLen
// honoured); a non-CA anchor is a pin that only matches itself; a leaf with an extendedKeyUsage must allow
// clientAuth (issue 10.0, 17.7). The attack certificates are made with openssl, as an attacker would; trust
// bundles built with `cat ca.crt server.crt` are accepted with a warning naming each non-CA entry (10.2).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';
import { freeDbPort, redisCli, waitForActive, writePems } from '../helpers/redis-cli.js';

const run = promisify(execFile);

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
[dn]
[leaf]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
[partner_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;dirName:partner_dir
[partner_dir]
O = PartnerCo
[odd_critical]
extendedKeyUsage = clientAuth
1.3.6.1.4.1.55555.1 = critical,ASN1:NULL
[odd_plain]
extendedKeyUsage = clientAuth
1.3.6.1.4.1.55555.1 = ASN1:NULL
`;

let node: TestNode;
let dir: string;
let dbPort: number;
let files: Record<string, string>;
const pem: Record<string, string> = {};

const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path: p, body, auth: node.admin });

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

/** The database answer for this client certificate (file name without extension): PONG, or the refusal. */
async function dbPing(name: string): Promise<string> {
  const result = await redisCli(dbPort, ['PING'], { tls: { cacert: files['proxy.pem'] as string, cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) } });
  return `${result.stdout} ${result.stderr}`.trim();
}

/** The HTTP status of GET /v1/users/role with this client certificate, sent by curl --cert (the whole file: leaf and chain). */
async function restStatus(name: string): Promise<string> {
  const { stdout } = await run('curl', ['-sk', '--cert', path.join(dir, `${name}.crt`), '--key', path.join(dir, `${name}.key`), '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${node.port}/v1/users/role`]);
  return stdout;
}

async function save(name: string, cert: TestCertificate, chain = cert.certificate): Promise<void> {
  pem[name] = cert.certificate;
  await writeFile(path.join(dir, `${name}.crt`), chain);
  await writeFile(path.join(dir, `${name}.key`), cert.key, { mode: 0o600 });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-trust-'));
  node = await startTestNode();
  dbPort = await freeDbPort();
  await writeFile(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);

  // The pinned client certificate (CA:FALSE, no keyUsage extension), made with openssl as an operator would.
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'pinned.key', '-out', 'pinned.crt', '-days', '30', '-subj', '/O=Acme/CN=pinned', '-config', 'openssl.cnf', '-extensions', 'leaf']);
  // The attack (issue 10.0): its holder signs a certificate for boss with the pinned certificate's key.
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'forged.key', '-out', 'forged.csr', '-subj', '/O=Acme/CN=boss', '-config', 'openssl.cnf']);
  await openssl(['x509', '-req', '-in', 'forged.csr', '-CA', 'pinned.crt', '-CAkey', 'pinned.key', '-set_serial', '7', '-days', '30', '-out', 'forged.crt', '-extfile', 'openssl.cnf', '-extensions', 'leaf']);
  pem.pinned = await readFile(path.join(dir, 'pinned.crt'), 'utf8');

  const root = await createCa({ cn: 'Trust Root' });
  const noSign = await createCa({ cn: 'CA without keyCertSign', keyUsage: ['digitalSignature', 'cRLSign'] });
  const strict = await createCa({ cn: 'PathLen 0 CA', pathLen: 0 });
  pem.root = root.certificate;
  pem.noSign = noSign.certificate;
  pem.strict = strict.certificate;
  pem.expired = (await createCa({ cn: 'Expired CA', notBefore: new Date(Date.now() - 30 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) })).certificate;
  const notCa = await issueCertificate(root, { cn: 'Intermediate without CA:TRUE', isCa: false, eku: [], keyUsage: ['digitalSignature', 'keyCertSign'] });
  const subCa = await issueCertificate(strict, { cn: 'Sub CA below pathLen 0', isCa: true });
  const boss = { subject: 'CN=boss,O=Acme', eku: ['clientAuth'] };
  await save('boss', await issueCertificate(root, boss));
  const viaNotCa = await issueCertificate(notCa, boss);
  await save('via-not-ca', viaNotCa, viaNotCa.chain);
  await save('via-no-keycertsign', await issueCertificate(noSign, boss));
  const viaSubCa = await issueCertificate(subCa, boss);
  await save('via-sub-ca', viaSubCa, viaSubCa.certificate + subCa.certificate);
  await save('server-only', await issueCertificate(root, { ...boss, eku: ['serverAuth'] }));

  // Review H1, as an enterprise sets it up: a partner sub-CA under the trusted root, limited by nameConstraints
  // to O=PartnerCo, issues boss's subject (O=Acme) anyway; and leaves with an unknown extension, critical or not.
  await writeFile(path.join(dir, 'root.crt'), root.certificate);
  await writeFile(path.join(dir, 'root.key'), root.key, { mode: 0o600 });
  const signedByRoot = async (name: string, subject: string, extensions: string): Promise<void> => {
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject, '-config', 'openssl.cnf']);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'root.crt', '-CAkey', 'root.key', '-set_serial', String(100 + name.length), '-days', '30', '-out', `${name}.crt`, '-extfile', 'openssl.cnf', '-extensions', extensions]);
  };
  await signedByRoot('partner-ca', '/O=PartnerCo/CN=Partner CA', 'partner_ca');
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'via-partner-ca.key', '-out', 'via-partner-ca.csr', '-subj', '/O=Acme/CN=boss', '-config', 'openssl.cnf']);
  await openssl(['x509', '-req', '-in', 'via-partner-ca.csr', '-CA', 'partner-ca.crt', '-CAkey', 'partner-ca.key', '-set_serial', '9', '-days', '30', '-out', 'partner-leaf.crt', '-extfile', 'openssl.cnf', '-extensions', 'leaf']);
  await writeFile(path.join(dir, 'via-partner-ca.crt'), (await readFile(path.join(dir, 'partner-leaf.crt'), 'utf8')) + (await readFile(path.join(dir, 'partner-ca.crt'), 'utf8')));
  await signedByRoot('odd-critical', '/O=Acme/CN=boss', 'odd_critical');
  await signedByRoot('odd-plain', '/O=Acme/CN=boss', 'odd_plain');

  files = await writePems(dir, { 'proxy.pem': (await asAdmin('GET', '/v1/cluster/certificates')).json.proxy_cert });

  const acl = await asAdmin('POST', '/v1/redis_acls', { name: 'boss-rw', acl: '+@all ~*' });
  const role = await asAdmin('POST', '/v1/roles', { name: 'Bosses', management: 'none' });
  const user = await asAdmin('POST', '/v1/users', { name: 'boss', auth_method: 'certificate', certificate_subject_line: 'CN=boss,O=Acme', role_uids: [role.json.uid] });
  expect(user.status, user.text).toBe(200);
  const pinnedUser = await asAdmin('POST', '/v1/users', { name: 'pinned', auth_method: 'certificate', certificate_subject_line: 'CN=pinned,O=Acme', role: 'cluster_viewer' });
  expect(pinnedUser.status, pinnedUser.text).toBe(200);

  const created = await asAdmin('POST', '/v1/bdbs', {
    name: 'trust',
    memory_size: 50_000_000,
    port: dbPort,
    tls_mode: 'enabled',
    enforce_client_authentication: 'enabled',
    // As operators build them: the PathLen-0 CA and the pinned client certificate in one entry.
    authentication_ssl_client_certs: [{ client_cert: pem.root }, { client_cert: pem.noSign }, { client_cert: pem.strict + pem.pinned }],
    roles_permissions: [{ role_uid: role.json.uid, redis_acl_uid: acl.json.uid }],
  });
  expect(created.status, created.text).toBe(200);
  expect(created.json.warnings).toEqual([expect.stringMatching(/authentication_ssl_client_certs\[2\] \(certificate #2, CN=pinned\).*not a CA.*pinned client certificate/)]);
  await waitForActive(node.port, node.admin, created.json.uid);

  const upload = await asAdmin('PUT', '/v1/cluster/certificates', {
    certificates: [{ name: 'mtls_trusted_ca', certificate: pem.root + pem.noSign + pem.strict + pem.pinned }],
  });
  expect(upload.status, upload.text).toBe(200);
  const settings = await asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });
  expect(settings.status, settings.text).toBe(200);
}, 180_000);

afterAll(async () => {
  await node?.destroy();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('only CA certificates issue, on databases and on the REST API', () => {
  it('logs boss in with a certificate from a real CA (the control case)', async () => {
    expect(await dbPing('boss')).toBe('PONG');
    expect((await redisCli(dbPort, ['SET', 'k', 'v'], { tls: { cacert: files['proxy.pem'] as string, cert: path.join(dir, 'boss.crt'), key: path.join(dir, 'boss.key') } })).stdout).toBe('OK');
    expect(await restStatus('boss')).toBe('200');
  });

  it('still accepts the pinned certificate itself', async () => {
    expect(await dbPing('pinned')).toBe('PONG');
    expect(await restStatus('pinned')).toBe('200');
  });

  it.each([
    ['a certificate signed with the pinned (non-CA) certificate’s key (openssl x509 -req -CA pinned.crt)', 'forged'],
    ['a path through an intermediate without CA:TRUE', 'via-not-ca'],
    ['a CA whose keyUsage lacks keyCertSign', 'via-no-keycertsign'],
    ['a sub-CA below a pathLen 0 CA', 'via-sub-ca'],
    ['a leaf whose extendedKeyUsage is serverAuth only', 'server-only'],
  ])('refuses %s as boss', async (_what, name) => {
    const db = await dbPing(name);
    expect(db).not.toContain('PONG');
    expect(db).toMatch(/not trusted: certificate_not_trusted/);
    const rest = await expectNoChange(node.dataDir, () => restStatus(name), { exceptEvents: true }); // refused logins are logged
    expect(rest).toBe('401');
    const body = await apiRequest(node.port, { path: '/v1/users/role', cert: await readFile(path.join(dir, `${name}.crt`), 'utf8'), key: await readFile(path.join(dir, `${name}.key`), 'utf8') });
    expect(body.json.error_code).toBe('certificate_not_trusted');
  });
});

describe('trust bundles as operators build them', () => {
  it('answers 200 with a warning naming each non-CA entry, and records it in /v1/logs', async () => {
    const bundle = pem.root! + pem.pinned!;
    const response = await asAdmin('PUT', '/v1/cluster/update_cert', { name: 'mtls_trusted_ca', certificate: bundle });
    expect(response.status, response.text).toBe(200);
    expect(response.json.warnings).toEqual([expect.stringMatching(/certificate #2, CN=pinned.*not a CA.*only as a pinned client certificate/)]);
    const logs = await asAdmin('GET', '/v1/logs');
    const warnings = (logs.json as Array<Record<string, unknown>>).filter((e) => e.type === 'trust_bundle_warning');
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ certificate_name: 'mtls_trusted_ca', severity: 'WARNING', warnings: response.json.warnings }),
        expect.objectContaining({ bdb_uid: expect.any(Number), warnings: [expect.stringMatching(/CN=pinned/)] }),
      ]),
    );
    // The pin still logs in; the forged certificate still does not.
    expect(await restStatus('pinned')).toBe('200');
    expect(await restStatus('forged')).toBe('401');
  });

  it.each([
    ['no certificate at all', 'no PEM here', 400, 'invalid_certificate'],
    ['only a pinned certificate, no CA', () => pem.pinned!, 400, 'not_a_ca'],
    ['expired certificates only (406, as for any expired upload)', () => pem.expired!, 406, 'certificate_expired'],
  ])('still refuses a bundle with %s, changing nothing', async (_what, certificate, status, code) => {
    const text = typeof certificate === 'function' ? certificate() : certificate;
    const response = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: text }] }));
    expect(response.status, response.text).toBe(status);
    expect(response.json.error_code).toBe(code);
  });
});

describe('constraints certplane does not enforce (review H1), on databases and on the REST API', () => {
  it('openssl itself refuses the partner CA’s certificate for boss (permitted subtree violation)', async () => {
    const result = await run('openssl', ['verify', '-CAfile', 'root.crt', '-untrusted', 'partner-ca.crt', '-purpose', 'sslclient', 'partner-leaf.crt'], { cwd: dir }).catch((error: { stdout: string; stderr: string }) => error);
    expect(`${result.stdout} ${result.stderr}`).toMatch(/permitted subtree violation/);
  });

  it.each([
    ['boss’s subject from a sub-CA limited by nameConstraints to O=PartnerCo', 'via-partner-ca', /CN=Partner CA.*nameConstraints, which certplane does not enforce/],
    ['a leaf with an unknown critical extension', 'odd-critical', /critical extension certplane does not process \(1\.3\.6\.1\.4\.1\.55555\.1\)/],
  ])('refuses %s, saying why, changing nothing', async (_what, name, why) => {
    const db = await dbPing(name);
    expect(db).not.toContain('PONG');
    expect(db).toMatch(/not trusted: certificate_not_trusted/);
    expect(await expectNoChange(node.dataDir, () => restStatus(name), { exceptEvents: true })).toBe('401');
    const body = await expectNoChange(node.dataDir, async () =>
      apiRequest(node.port, { path: '/v1/users/role', cert: await readFile(path.join(dir, `${name}.crt`), 'utf8'), key: await readFile(path.join(dir, `${name}.key`), 'utf8') }),
      { exceptEvents: true },
    );
    expect(body.status).toBe(401);
    expect(body.json.error_code).toBe('certificate_not_trusted');
    expect(body.json.description).toMatch(why);
  });

  it('accepts a leaf whose unknown extension is not critical', async () => {
    expect(await dbPing('odd-plain')).toBe('PONG');
    expect(await restStatus('odd-plain')).toBe('200');
  });
});
