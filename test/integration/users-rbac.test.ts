// Users, roles and RBAC over real HTTPS against one node: CRUD of /v1/users, GET /v1/roles, passwords never
// echoed, uniqueness and last-admin rules, the permission matrix (digest §6.4) spot-checked for each of the
// seven management roles, and the login lockout policy (digest §5.3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createTestUser, ROLES, type TestRole, type TestUser } from '../helpers/test-users.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
});

afterAll(async () => {
  await node?.destroy();
});

function call(method: string, path: string, auth: Credentials | null, body?: unknown): Promise<ApiResponse> {
  return apiRequest(node.port, { method, path, auth, body });
}

function expectError(response: ApiResponse, status: number, errorCode: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.json).toMatchObject({ error_code: errorCode });
  expect(response.json.message).toBe(response.json.description);
}

const USER_FIELDS = ['auth_method', 'certificate_subject_line', 'email', 'email_alerts', 'name', 'password_issue_date', 'role', 'role_uids', 'status', 'uid'];

function expectNoPassword(text: string, ...passwords: string[]): void {
  expect(text).not.toMatch(/password_hash|scrypt|"password"/);
  for (const password of passwords) expect(text).not.toContain(password);
}

describe('users CRUD', () => {
  it('creates, reads, lists, updates and deletes a user, never echoing the password', async () => {
    const password = 'Carol-Initial-Pass-1';
    const created = await call('POST', '/v1/users', node.admin, { name: 'Carol', email: 'carol@example.com', password, role: 'db_member' });
    expect(created.status, created.text).toBe(200);
    expectNoPassword(created.text, password);
    expect(Object.keys(created.json).sort()).toEqual(USER_FIELDS);
    expect(created.json).toMatchObject({
      name: 'Carol',
      email: 'carol@example.com',
      role: 'db_member',
      role_uids: [4],
      auth_method: 'regular',
      certificate_subject_line: '',
      email_alerts: true,
      status: 'active',
    });
    expect(created.json.password_issue_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const uid = created.json.uid as number;
    expect(uid).toBeGreaterThan(1);

    const one = await call('GET', `/v1/users/${uid}`, node.admin);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(created.json);
    expectNoPassword(one.text, password);

    const list = await call('GET', '/v1/users', node.admin);
    expect(list.status).toBe(200);
    expect((list.json as Array<{ uid: number }>).map((u) => u.uid)).toEqual(expect.arrayContaining([1, uid]));
    expectNoPassword(list.text, password, node.admin.password);

    // The new user can log in with the password it was created with.
    expect((await call('GET', `/v1/users/${uid}`, { email: 'carol@example.com', password })).status).toBe(200);

    const newPassword = 'Carol-Second-Pass-2';
    const updated = await call('PUT', `/v1/users/${uid}`, node.admin, { name: 'Carol B', role: 'cluster_viewer', password: newPassword });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json).toMatchObject({ uid, name: 'Carol B', role: 'cluster_viewer', role_uids: [3] });
    expectNoPassword(updated.text, password, newPassword);
    expect((await call('GET', `/v1/users/${uid}`, { email: 'carol@example.com', password })).status).toBe(401);
    expect((await call('GET', `/v1/users/${uid}`, { email: 'carol@example.com', password: newPassword })).status).toBe(200);

    const deleted = await call('DELETE', `/v1/users/${uid}`, node.admin);
    expect(deleted.status, deleted.text).toBe(200);
    expectError(await call('GET', `/v1/users/${uid}`, node.admin), 404, 'not_found');
    expect((await call('GET', '/v1/users/1', { email: 'carol@example.com', password: newPassword })).status).toBe(401);
    expectError(await call('DELETE', `/v1/users/${uid}`, node.admin), 404, 'not_found');
  });

  it('lists the seven predefined roles with GET /v1/roles', async () => {
    const roles = await call('GET', '/v1/roles', node.admin);
    expect(roles.status).toBe(200);
    expect((roles.json as Array<{ management: string }>).map((r) => r.management).sort()).toEqual([...ROLES].sort());
    for (const role of roles.json as Array<Record<string, unknown>>) {
      expect(role).toEqual(expect.objectContaining({ uid: expect.any(Number), name: expect.any(String) }));
    }
  });

  it('refuses a second user with the same email (also differently cased) with 409 email_already_exists, changing nothing', async () => {
    const first = await createTestUser(node, 'db_viewer', 'dup');
    for (const email of [first.email, first.email.toUpperCase()]) {
      const response = await expectNoChange(node.dataDir, () =>
        call('POST', '/v1/users', node.admin, { name: `Dup ${email}`, email, password: 'Another-Pass-1', role: 'db_viewer' }),
      );
      expectError(response, 409, 'email_already_exists');
    }
    const other = await createTestUser(node, 'db_viewer', 'dup-other');
    const response = await expectNoChange(node.dataDir, () => call('PUT', `/v1/users/${other.uid}`, node.admin, { email: first.email }));
    expectError(response, 409, 'email_already_exists');
  });

  it('refuses a user with a uid that is taken with 409 uid_exists (as databases, roles and Redis ACLs), changing nothing', async () => {
    const response = await expectNoChange(node.dataDir, () =>
      call('POST', '/v1/users', node.admin, { uid: 1, name: 'Uid Clash', email: 'uid-clash@example.com', password: 'Another-Pass-1', role: 'db_viewer' }),
    );
    expectError(response, 409, 'uid_exists');
  });

  it.each([
    ['an unknown field', { name: 'X', email: 'x1@example.com', password: 'Xx-password-1', role: 'db_viewer', superuser: true }, 'invalid_schema'],
    ['an unknown role', { name: 'X', email: 'x2@example.com', password: 'Xx-password-1', role: 'root' }, 'invalid_schema'],
    ['a malformed email', { name: 'X', email: 'not an email', password: 'Xx-password-1', role: 'db_viewer' }, 'invalid_schema'],
    ['a short password', { name: 'X', email: 'x3@example.com', password: 'short', role: 'db_viewer' }, 'password_not_complex'],
    ['no password', { name: 'X', email: 'x4@example.com', role: 'db_viewer' }, 'missing_password'],
    ['a password of the wrong type', { name: 'X', email: 'x5@example.com', password: 12345678, role: 'db_viewer' }, 'invalid_schema'],
  ])('rejects a new user with %s (400 %s), changing nothing', async (_what, body, code) => {
    const response = await expectNoChange(node.dataDir, () => call('POST', '/v1/users', node.admin, body));
    expectError(response, 400, code);
    expect(response.text).not.toContain('Xx-password-1');
  });
});

describe('the last admin', () => {
  it('cannot be deleted or demoted (406 change_last_admin_role_not_allowed); with a second admin it can', async () => {
    const admins = ((await call('GET', '/v1/users', node.admin)).json as Array<{ uid: number; role: string }>).filter((u) => u.role === 'admin');
    expect(admins.map((a) => a.uid)).toEqual([1]);

    expectError(await expectNoChange(node.dataDir, () => call('DELETE', '/v1/users/1', node.admin)), 406, 'change_last_admin_role_not_allowed');
    expectError(await expectNoChange(node.dataDir, () => call('PUT', '/v1/users/1', node.admin, { role: 'cluster_member' })), 406, 'change_last_admin_role_not_allowed');
    expectError(await expectNoChange(node.dataDir, () => call('PUT', '/v1/users/1', node.admin, { role_uids: [5] })), 406, 'change_last_admin_role_not_allowed');

    const second = await createTestUser(node, 'admin', 'second-admin');
    const demoted = await call('PUT', `/v1/users/${second.uid}`, node.admin, { role: 'db_viewer' });
    expect(demoted.status, demoted.text).toBe(200);
    // uid 1 is the only admin again.
    expectError(await expectNoChange(node.dataDir, () => call('DELETE', '/v1/users/1', node.admin)), 406, 'change_last_admin_role_not_allowed');
    // An admin may not demote the last admin even when acting as that other admin.
    const third = await createTestUser(node, 'admin', 'third-admin');
    expect((await call('DELETE', `/v1/users/${third.uid}`, third)).status).toBe(200);
    expectError(await expectNoChange(node.dataDir, () => call('DELETE', '/v1/users/1', node.admin)), 406, 'change_last_admin_role_not_allowed');
  });
});

describe('RBAC over HTTP (digest §6.4)', () => {
  const users = {} as Record<TestRole, TestUser>;
  let target: TestUser;

  beforeAll(async () => {
    const created = await Promise.all(ROLES.map((role) => createTestUser(node, role, `rbac-${role}`)));
    for (const user of created) users[user.role] = user;
    target = await createTestUser(node, 'db_viewer', 'rbac-target');
  });

  type Check = { method: string; path: () => string; body?: unknown; allowed: readonly TestRole[]; allowedStatus: number };
  const ALL_BUT_NONE = ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'] as const;
  const USER_ADMINS = ['admin', 'user_manager'] as const;
  // Allowed writes are sent with an invalid body or to a missing entity, so "allowed" shows as 400/404 and
  // nothing changes; denied callers get 403 before the body is looked at.
  const checks: Record<string, Check> = {
    'GET /v1/cluster/certificates': { method: 'GET', path: () => '/v1/cluster/certificates', allowed: ALL_BUT_NONE, allowedStatus: 200 },
    'PUT /v1/cluster/certificates': { method: 'PUT', path: () => '/v1/cluster/certificates', body: { certificates: [] }, allowed: ['admin'], allowedStatus: 400 },
    'PUT /v1/cluster/update_cert': { method: 'PUT', path: () => '/v1/cluster/update_cert', body: { name: 'api' }, allowed: ['admin'], allowedStatus: 400 },
    'DELETE /v1/cluster/certificates/ldap_client': { method: 'DELETE', path: () => '/v1/cluster/certificates/ldap_client', allowed: ['admin'], allowedStatus: 404 },
    'GET /v1/users': { method: 'GET', path: () => '/v1/users', allowed: USER_ADMINS, allowedStatus: 200 },
    'GET /v1/users/{other}': { method: 'GET', path: () => `/v1/users/${target.uid}`, allowed: USER_ADMINS, allowedStatus: 200 },
    'POST /v1/users': { method: 'POST', path: () => '/v1/users', body: { name: 'no email' }, allowed: USER_ADMINS, allowedStatus: 400 },
    'PUT /v1/users/{other}': { method: 'PUT', path: () => `/v1/users/${target.uid}`, body: { email: 'bad email' }, allowed: USER_ADMINS, allowedStatus: 400 },
    'DELETE /v1/users/{missing}': { method: 'DELETE', path: () => '/v1/users/999999', allowed: USER_ADMINS, allowedStatus: 404 },
    'GET /v1/roles': { method: 'GET', path: () => '/v1/roles', allowed: ALL_BUT_NONE, allowedStatus: 200 },
    'GET /v1/logs': { method: 'GET', path: () => '/v1/logs', allowed: ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'user_manager'], allowedStatus: 200 },
    'PUT /v1/cluster': { method: 'PUT', path: () => '/v1/cluster', body: { no_such_field: 1 }, allowed: ['admin'], allowedStatus: 400 },
  };

  it.each(ROLES)('enforces the matrix for a %s', async (role) => {
    const user = users[role];
    const mismatches: string[] = [];
    for (const [name, check] of Object.entries(checks)) {
      const allowed = (check.allowed as readonly string[]).includes(role);
      const response = await expectNoChange(node.dataDir, () => call(check.method, check.path(), user, check.body));
      const expected = allowed ? check.allowedStatus : 403;
      if (response.status !== expected) mismatches.push(`${name}: expected ${expected}, got ${response.status} ${response.text}`);
      if (!allowed && response.json?.error_code !== 'insufficient_permissions') mismatches.push(`${name}: error_code ${response.json?.error_code}`);
    }
    expect(mismatches).toEqual([]);
  });

  it.each(ROLES)('lets a %s read and rename itself but not change its own role', async (role) => {
    const user = users[role];
    expect((await call('GET', `/v1/users/${user.uid}`, user)).status).toBe(200);
    const renamed = await call('PUT', `/v1/users/${user.uid}`, user, { name: `renamed ${role}` });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json.name).toBe(`renamed ${role}`);
    if (role === 'admin' || role === 'user_manager') return;
    const escalate = await expectNoChange(node.dataDir, () => call('PUT', `/v1/users/${user.uid}`, user, { role: 'admin' }));
    expectError(escalate, 403, 'insufficient_permissions');
    const viaUids = await expectNoChange(node.dataDir, () => call('PUT', `/v1/users/${user.uid}`, user, { role_uids: [1] }));
    expectError(viaUids, 403, 'insufficient_permissions');
  });

  it('answers 401 unauthenticated for every protected endpoint without credentials', async () => {
    for (const [name, check] of Object.entries(checks)) {
      const response = await expectNoChange(node.dataDir, () => call(check.method, check.path(), null, check.body));
      expect(response.status, name).toBe(401);
      expect(response.json?.error_code, name).toBe('unauthenticated');
    }
  });
});

describe('login lockout (digest §5.3 defaults: 5 failures)', () => {
  it('locks after 5 failed logins, refuses the right password while locked, and unlocks when an admin sets a new password', async () => {
    const user = await createTestUser(node, 'cluster_viewer', 'lockout');
    const wrong = { email: user.email, password: 'wrong-password-x' };
    for (let i = 1; i <= 5; i++) {
      const response = await call('GET', '/v1/cluster/certificates', wrong);
      expect(response.status, `attempt ${i}`).toBe(401);
    }
    expectError(await call('GET', '/v1/cluster/certificates', user), 401, 'user_locked');
    expectError(await call('GET', '/v1/cluster/certificates', wrong), 401, 'user_locked');

    const shown = await call('GET', `/v1/users/${user.uid}`, node.admin);
    expect(shown.json.status).toBe('locked');
    // Other users are not affected.
    expect((await call('GET', '/v1/cluster/certificates', node.admin)).status).toBe(200);

    const newPassword = 'Fresh-Lockout-Pass-9';
    const reset = await call('PUT', `/v1/users/${user.uid}`, node.admin, { password: newPassword });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.json.status).toBe('active');
    expectNoPassword(reset.text, newPassword);

    expect((await call('GET', '/v1/cluster/certificates', { email: user.email, password: newPassword })).status).toBe(200);
    expectError(await call('GET', '/v1/cluster/certificates', user), 401, 'unauthenticated');
    expect((await call('GET', `/v1/users/${user.uid}`, node.admin)).json.status).toBe('active');
  });

  it('resets the failure count after a successful login', async () => {
    const user = await createTestUser(node, 'db_viewer', 'reset');
    const wrong = { email: user.email, password: 'wrong-password-y' };
    for (let i = 0; i < 4; i++) expect((await call('GET', '/v1/roles', wrong)).status).toBe(401);
    expect((await call('GET', '/v1/roles', user)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await call('GET', '/v1/roles', wrong)).status).toBe(401);
    expect((await call('GET', '/v1/roles', user)).status).toBe(200);
  });
});
