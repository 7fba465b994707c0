// The trail shows who did what (issue 17.8), against a real node: after each kind of change (user, password,
// role, Redis ACL, database, mTLS and lockout settings) GET /v1/logs has an event naming the actor and the
// target; lockouts and refused certificate logins are WARNING events, one per subject per minute however many
// attempts; and no password, hash or key appears in the logs response or in the node's own log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { createTestUser, type TestUser } from '../helpers/test-users.js';
import { waitForActive } from '../helpers/redis-cli.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';

let node: TestNode;
let manager: TestUser;
/** Every secret a request of this file sent: none may show up in /v1/logs or in the node's output. */
const secrets: string[] = [];

function call(method: string, path: string, auth: Credentials | null, body?: unknown): Promise<ApiResponse> {
  return apiRequest(node.port, { method, path, auth, body });
}

async function ok(method: string, path: string, auth: Credentials, body?: unknown): Promise<any> {
  const response = await call(method, path, auth, body);
  expect(response.status, `${method} ${path}: ${response.text}`).toBe(200);
  return response.json;
}

type LogEvent = Record<string, any>;

async function logs(): Promise<{ events: LogEvent[]; text: string }> {
  const response = await call('GET', '/v1/logs?limit=10000', node.admin);
  expect(response.status, response.text).toBe(200);
  return { events: response.json as LogEvent[], text: response.text };
}

async function findEvents(match: Record<string, unknown>): Promise<LogEvent[]> {
  return (await logs()).events.filter((e) => Object.entries(match).every(([k, v]) => e[k] === v));
}

/** Exactly one event matches, and it names who did it. */
async function expectEvent(match: Record<string, unknown>, actor: { uid: number; email: string } | undefined): Promise<LogEvent> {
  const found = await findEvents(match);
  expect(found, JSON.stringify(match)).toHaveLength(1);
  const event = found[0]!;
  expect(event.time).toEqual(expect.any(String));
  if (actor !== undefined) {
    expect(event).toMatchObject({ severity: 'INFO', user_uid: actor.uid, user_email: actor.email });
  }
  return event;
}

const admin = (): { uid: number; email: string } => ({ uid: 1, email: node.admin.email });

beforeAll(async () => {
  node = await startTestNode();
  secrets.push(node.admin.password);
  manager = await createTestUser(node, 'user_manager', 'trail-manager');
  secrets.push(manager.password);
});

afterAll(async () => {
  await node?.destroy();
});

describe('changes are events with actor and target', () => {
  it('records a user’s life: created, updated, password changed on each route, deleted', async () => {
    const passwords = ['Trail-Password-One-1', 'Trail-Password-Two-2', 'Trail-Password-Three-3', 'Trail-Password-Four-4'] as const;
    secrets.push(...passwords);
    const email = 'trail-user@example.com';
    const created = await ok('POST', '/v1/users', node.admin, { name: 'Trail User', email, password: passwords[0], role: 'db_viewer' });
    const uid = created.uid as number;
    await expectEvent({ type: 'user_created', target_uid: uid }, admin());

    await ok('PUT', `/v1/users/${uid}`, manager, { email: 'trail-moved@example.com', role: 'cluster_viewer' });
    const updated = await expectEvent({ type: 'user_updated', target_uid: uid }, manager);
    expect(updated).toMatchObject({ target_type: 'user', target_name: 'Trail User' });
    expect(updated.changed_fields).toEqual(expect.arrayContaining(['email', 'role', 'role_uids']));

    await ok('PUT', `/v1/users/${uid}`, node.admin, { password: passwords[1] });
    const user = { email: 'trail-moved@example.com', password: passwords[1] };
    await ok('PUT', '/v1/users/password', user, { old_password: passwords[1], new_password: passwords[2] });
    await ok('POST', '/v1/users/password', node.admin, { username: user.email, new_password: passwords[3] });
    const changes = await findEvents({ type: 'user_password_changed', target_uid: uid });
    expect(changes.map((e) => e.user_uid)).toEqual([1, uid, 1]);
    // A password change alone is not also a user_updated event.
    expect(await findEvents({ type: 'user_updated', target_uid: uid })).toHaveLength(1);

    await ok('DELETE', `/v1/users/${uid}`, manager);
    await expectEvent({ type: 'user_deleted', target_uid: uid }, manager);
  });

  it('records role changes', async () => {
    const role = await ok('POST', '/v1/roles', manager, { name: 'Trail Role', management: 'db_viewer' });
    await expectEvent({ type: 'role_created', target_uid: role.uid, target_name: 'Trail Role' }, manager);
    await ok('PUT', `/v1/roles/${role.uid}`, manager, { name: 'Trail Role 2', management: 'db_member' });
    const updated = await expectEvent({ type: 'role_updated', target_uid: role.uid }, manager);
    expect(updated.changed_fields).toEqual(['management', 'name']);
    await ok('DELETE', `/v1/roles/${role.uid}`, node.admin);
    await expectEvent({ type: 'role_deleted', target_uid: role.uid }, admin());
  });

  it('records Redis ACL changes', async () => {
    const acl = await ok('POST', '/v1/redis_acls', manager, { name: 'Trail ACL', acl: '+@read ~trail:*' });
    await expectEvent({ type: 'redis_acl_created', target_uid: acl.uid }, manager);
    await ok('PUT', `/v1/redis_acls/${acl.uid}`, node.admin, { acl: '+@read +@write ~trail:*' });
    expect((await expectEvent({ type: 'redis_acl_updated', target_uid: acl.uid }, admin())).changed_fields).toEqual(['acl']);
    await ok('DELETE', `/v1/redis_acls/${acl.uid}`, node.admin);
    await expectEvent({ type: 'redis_acl_deleted', target_uid: acl.uid }, admin());
  });

  it('records database changes, naming a changed password field but never its value', async () => {
    const member = await createTestUser(node, 'db_member', 'trail-member');
    secrets.push(member.password, 'Trail-Db-Secret-1', 'Trail-Db-Secret-2');
    const bdb = await ok('POST', '/v1/bdbs', member, { name: 'trail-db', memory_size: 10_000_000, authentication_redis_pass: 'Trail-Db-Secret-1' });
    await expectEvent({ type: 'bdb_created', target_uid: bdb.uid, target_name: 'trail-db' }, member);
    await waitForActive(node.port, node.admin, bdb.uid);
    await ok('PUT', `/v1/bdbs/${bdb.uid}`, member, { memory_size: 20_000_000, authentication_redis_pass: 'Trail-Db-Secret-2' });
    const updated = await expectEvent({ type: 'bdb_updated', target_uid: bdb.uid }, member);
    expect(updated.changed_fields).toEqual(['authentication_redis_pass', 'memory_size']);
    await waitForActive(node.port, node.admin, bdb.uid);
    await ok('PUT', `/v1/bdbs/${bdb.uid}/reset_admin_pass`, node.admin);
    expect((await findEvents({ type: 'bdb_updated', target_uid: bdb.uid })).map((e) => e.user_uid)).toEqual([member.uid, 1]);
    await ok('DELETE', `/v1/bdbs/${bdb.uid}`, member);
    await expectEvent({ type: 'bdb_deleted', target_uid: bdb.uid }, member);
  });

  it('records mTLS setting changes apart from other cluster settings, and lockout policy changes', async () => {
    await ok('PUT', '/v1/cluster', node.admin, { mtls_client_cert_subject_validation_type: 'san_cn', mtls_authorized_subjects: [{ CN: 'trail' }], password_min_length: 10 });
    const mtls = await expectEvent({ type: 'cluster_mtls_updated' }, admin());
    expect(mtls).toMatchObject({ target_type: 'cluster', changed_fields: ['mtls_authorized_subjects', 'mtls_client_cert_subject_validation_type'] });
    expect((await expectEvent({ type: 'cluster_updated' }, admin())).changed_fields).toEqual(['password_min_length']);
    await ok('PUT', '/v1/cluster', node.admin, { mtls_client_cert_subject_validation_type: 'disabled', mtls_authorized_subjects: [], password_min_length: 8 });
    await ok('PUT', '/v1/cluster/policy', node.admin, { login_lockout_duration: 1700 });
    expect((await expectEvent({ type: 'cluster_policy_updated' }, admin())).changed_fields).toEqual(['login_lockout_duration']);
    // A PUT that changes nothing writes no event.
    const before = (await logs()).events.length;
    await ok('PUT', '/v1/cluster/policy', node.admin, { login_lockout_duration: 1700 });
    expect((await logs()).events.length).toBe(before);
  });
});

describe('refused logins are rate-limited WARNING events', () => {
  it('records a lockout once, however many attempts follow, with the user as target and no password', async () => {
    const victim = await createTestUser(node, 'db_viewer', 'trail-locked');
    secrets.push(victim.password, 'Wrong-Guess-Password-7');
    const wrong = { email: victim.email, password: 'Wrong-Guess-Password-7' };
    for (let i = 0; i < 4; i++) expect((await call('GET', '/v1/users/role', wrong)).status).toBe(401);
    expect(await findEvents({ type: 'user_locked', target_uid: victim.uid })).toEqual([]);
    for (let i = 0; i < 6; i++) expect((await call('GET', '/v1/users/role', wrong)).status).toBe(401);
    expect((await call('GET', '/v1/users/role', victim)).json?.error_code).toBe('user_locked');
    const [locked, ...more] = await findEvents({ type: 'user_locked', target_uid: victim.uid });
    expect(more).toEqual([]);
    expect(locked).toMatchObject({ severity: 'WARNING', target_type: 'user', target_name: victim.email, remote_address: expect.stringContaining('127.0.0.1') });
    expect(locked!.time).toEqual(expect.any(String));
  });

  it('records a refused certificate login once per subject, with the presented subject', async () => {
    const ca: TestCertificate = await createCa({ cn: 'Trail CA' });
    const otherCa = await createCa({ cn: 'Trail Other CA' });
    const stranger = await issueCertificate(ca, { subject: 'CN=stranger,O=Trail', eku: ['clientAuth'] });
    const forged = await issueCertificate(otherCa, { subject: 'CN=forged,O=Trail', eku: ['clientAuth'] });
    await ok('PUT', '/v1/cluster/certificates', node.admin, { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
    await ok('PUT', '/v1/cluster', node.admin, { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });
    for (let i = 0; i < 5; i++) {
      for (const cert of [stranger, forged]) {
        const response = await apiRequest(node.port, { path: '/v1/users/role', cert: cert.certificate, key: cert.key });
        expect(response.status).toBe(401);
      }
    }
    const refused = await findEvents({ type: 'certificate_login_refused' });
    expect(refused.map((e) => [e.subject, e.error_code]).sort()).toEqual([
      ['CN=forged,O=Trail', 'certificate_not_trusted'],
      ['CN=stranger,O=Trail', 'unknown_certificate_user'],
    ]);
    for (const event of refused) expect(event).toMatchObject({ severity: 'WARNING', target_type: 'api', refused_attempts: 1 });
    secrets.push(stranger.key, forged.key);
  });
});

describe('no secret in the trail', () => {
  it('never shows a password, hash or key in GET /v1/logs or in the node’s log', async () => {
    const { text } = await logs();
    expect(text).not.toMatch(/password_hash|redis_password_sha256|scrypt|PRIVATE KEY/);
    const output = node.output();
    expect(output.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });
});
