// No escalation through user management (issue 17.1) and no role binding beyond one's rights (17.2), over real
// HTTPS against one node: the reproduced attacks one by one, then the generated matrix of every management
// role × every user and role route × target role. Users are created once; the matrix runs its requests on
// keep-alive connections with `?dry_run` where the route has it, so allowed requests change nothing either and
// one snapshot around the whole batch proves that no request of it changed the store or a file.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange, snapshotNode } from '../helpers/expect-no-change.js';
import { createTestUser, ROLES, type TestRole, type TestUser } from '../helpers/test-users.js';
import { MAY_GRANT } from '../helpers/grant-oracle.js';
import { waitForActive } from '../helpers/redis-cli.js';

let node: TestNode;
const agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });

function call(method: string, path: string, auth: Credentials | null, body?: unknown): Promise<ApiResponse> {
  return apiRequest(node.port, { method, path, auth, body, agent });
}

function expectError(response: ApiResponse, status: number, errorCode: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.json).toMatchObject({ error_code: errorCode });
}

/** Predefined role uids (digest §6.3; User Manager is 7). */
const ROLE_UID: Record<TestRole, number> = { admin: 1, cluster_member: 2, cluster_viewer: 3, db_member: 4, db_viewer: 5, none: 6, user_manager: 7 };

beforeAll(async () => {
  node = await startTestNode();
});

afterAll(async () => {
  agent.destroy();
  await node?.destroy();
});

describe('the reproduced escalations of a user_manager are refused (403) and change nothing', () => {
  let manager: TestUser;
  let secondAdmin: TestUser;
  let adminRoleUid: number;

  beforeAll(async () => {
    manager = await createTestUser(node, 'user_manager', 'esc-manager');
    secondAdmin = await createTestUser(node, 'admin', 'esc-admin');
    const role = await call('POST', '/v1/roles', node.admin, { name: 'Custom Admins', management: 'admin' });
    expect(role.status, role.text).toBe(200);
    adminRoleUid = role.json.uid;
  });

  const refused = async (method: string, path: string, body: unknown, status: number, code: string): Promise<void> => {
    const response = await expectNoChange(node.dataDir, () => call(method, path, manager, body));
    expectError(response, status, code);
    expect(response.text).not.toContain('Hijack');
  };

  it('cannot set its own role to admin, by name or by role uid', async () => {
    await refused('PUT', `/v1/users/${manager.uid}`, { role: 'admin' }, 403, 'insufficient_permissions');
    await refused('PUT', `/v1/users/${manager.uid}`, { role_uids: [1] }, 403, 'insufficient_permissions');
    expect((await call('GET', '/v1/users/role', manager)).json.role).toBe('user_manager');
  });

  it('cannot create an admin', async () => {
    await refused('POST', '/v1/users', { name: 'evil', email: 'evil@example.com', password: 'Hijack-Password-1', role: 'admin' }, 403, 'insufficient_permissions');
    await refused('POST', '/v1/users', { name: 'evil', email: 'evil@example.com', password: 'Hijack-Password-1', role_uids: [5, 1] }, 403, 'insufficient_permissions');
  });

  it('cannot set an admin’s password without the old one, on either route', async () => {
    await refused('PUT', '/v1/users/password', { username: node.admin.email, new_password: 'Hijack-Password-1' }, 403, 'unauthorized_action');
    await refused('POST', '/v1/users/password', { username: node.admin.email, new_password: 'Hijack-Password-1' }, 403, 'unauthorized_action');
    await refused('PUT', '/v1/users/1', { password: 'Hijack-Password-1' }, 403, 'insufficient_permissions');
    expect((await call('GET', '/v1/users/role', node.admin)).status).toBe(200);
    expect((await call('GET', '/v1/users/role', { email: node.admin.email, password: 'Hijack-Password-1' })).status).toBe(401);
  });

  it('cannot set a lesser user’s password either (only admins set other users’ passwords)', async () => {
    const viewer = await createTestUser(node, 'db_viewer', 'esc-viewer');
    await refused('PUT', '/v1/users/password', { username: viewer.email, new_password: 'Hijack-Password-1' }, 403, 'unauthorized_action');
    await refused('PUT', `/v1/users/${viewer.uid}`, { password: 'Hijack-Password-1' }, 403, 'unauthorized_action');
    await refused('PUT', `/v1/users/${viewer.uid}`, { auth_method: 'certificate', certificate_subject_line: 'CN=hijack' }, 403, 'unauthorized_action');
  });

  it('cannot create an admin-management role, nor bind itself to one an admin made', async () => {
    await refused('POST', '/v1/roles', { name: 'Escalate', management: 'admin' }, 403, 'insufficient_permissions');
    await refused('PUT', `/v1/users/${manager.uid}`, { role_uids: [adminRoleUid] }, 403, 'insufficient_permissions');
    await refused('PUT', `/v1/roles/${adminRoleUid}`, { name: 'Renamed' }, 403, 'insufficient_permissions');
    await refused('DELETE', `/v1/roles/${adminRoleUid}`, undefined, 403, 'insufficient_permissions');
  });

  it('cannot delete or demote an admin', async () => {
    await refused('DELETE', `/v1/users/${secondAdmin.uid}`, undefined, 403, 'insufficient_permissions');
    await refused('PUT', `/v1/users/${secondAdmin.uid}`, { role: 'none' }, 403, 'insufficient_permissions');
    await refused('PUT', `/v1/users/${secondAdmin.uid}`, { email: 'taken-over@example.com' }, 403, 'insufficient_permissions');
  });

  it('still manages users up to its own rights', async () => {
    const created = await call('POST', '/v1/users', manager, { name: 'helper', email: 'helper@example.com', password: 'Helper-Password-1', role: 'cluster_member' });
    expect(created.status, created.text).toBe(200);
    const moved = await call('PUT', `/v1/users/${created.json.uid}`, manager, { role: 'user_manager' });
    expect(moved.status, moved.text).toBe(200);
    expect((await call('DELETE', `/v1/users/${created.json.uid}`, manager)).status).toBe(200);
  });

  it('needs its old password to change its own, on every route', async () => {
    await refused('PUT', `/v1/users/${manager.uid}`, { password: 'Hijack-Password-1' }, 401, 'unauthenticated');
    await refused('PUT', '/v1/users/password', { new_password: 'Hijack-Password-1' }, 401, 'unauthenticated');
    await refused('POST', '/v1/users/password', { username: manager.email, new_password: 'Hijack-Password-1' }, 401, 'unauthenticated');
    // A wrong old_password is a counted password check (review M2): the lockout counter is the only
    // change. (Last: each Basic login above resets the counter.)
    const before = await snapshotNode(node.dataDir);
    const wrongOld = await call('PUT', `/v1/users/${manager.uid}`, manager, { password: 'Hijack-Password-1', old_password: 'wrong-old-password' });
    expectError(wrongOld, 401, 'unauthenticated');
    const after = await snapshotNode(node.dataDir);
    const counter = (kv: { key: string }): boolean => kv.key.endsWith(`/login-failures/${manager.uid}`);
    expect(after.store.filter(counter)).toHaveLength(1);
    expect({ store: after.store.filter((kv) => !counter(kv)), files: after.files }).toEqual({ store: before.store.filter((kv) => !counter(kv)), files: before.files });
    const changed = await call('PUT', `/v1/users/${manager.uid}`, manager, { password: 'Manager-Password-2', old_password: manager.password });
    expect(changed.status, changed.text).toBe(200);
    manager = { ...manager, password: 'Manager-Password-2' };
    expect((await call('GET', '/v1/users/role', manager)).status).toBe(200);
  });

  it('an admin too needs its old password for its own, but not for another user’s', async () => {
    const response = await expectNoChange(node.dataDir, () => call('PUT', `/v1/users/${secondAdmin.uid}`, secondAdmin, { password: 'Hijack-Password-1' }));
    expectError(response, 401, 'unauthenticated');
    const other = await call('PUT', `/v1/users/${manager.uid}?dry_run`, secondAdmin, { password: 'Admin-Sets-Password-1' });
    expect(other.status, other.text).toBe(200);
  });
});

describe('the whole matrix over HTTP: every role × every user and role route × target role', () => {
  const userAdmin = (role: TestRole): boolean => role === 'admin' || role === 'user_manager';
  const may = (caller: TestRole, ...targets: TestRole[]): boolean => targets.every((t) => MAY_GRANT[caller].includes(t));

  type Outcome = 200 | 'insufficient_permissions' | 'unauthorized_action' | 'unauthenticated';
  interface Case {
    name: string;
    caller: TestRole;
    method: string;
    path: string;
    body?: unknown;
    expected: Outcome;
  }

  const callers = {} as Record<TestRole, TestUser>;
  const targets = {} as Record<TestRole, TestUser>;
  const customRoles = {} as Record<TestRole, number>;

  beforeAll(async () => {
    const made = await Promise.all(ROLES.map(async (role) => [role, await createTestUser(node, role, `m-caller-${role}`), await createTestUser(node, role, `m-target-${role}`)] as const));
    for (const [role, caller, target] of made) {
      callers[role] = caller;
      targets[role] = target;
    }
    for (const role of ROLES) {
      const created = await call('POST', '/v1/roles', node.admin, { name: `Matrix ${role}`, management: role });
      expect(created.status, created.text).toBe(200);
      customRoles[role] = created.json.uid;
    }
  });

  function buildCases(): Case[] {
    const cases: Case[] = [];
    const gate = (caller: TestRole, ok: boolean): Outcome => (userAdmin(caller) && ok ? 200 : 'insufficient_permissions');
    const credentialGate = (caller: TestRole, target: TestRole): Outcome =>
      !userAdmin(caller) || !may(caller, target) ? 'insufficient_permissions' : caller === 'admin' ? 200 : 'unauthorized_action';
    for (const caller of ROLES) {
      for (const target of ROLES) {
        const user = (): TestUser => targets[target];
        const add = (name: string, method: string, path: () => string, expected: Outcome, body?: unknown): void => {
          cases.push({ name: `${caller}: ${name}`, caller, method, get path() { return path(); }, body, expected });
        };
        add(`create a ${target}`, 'POST', () => '/v1/users?dry_run', gate(caller, may(caller, target)), {
          name: `new ${target}`,
          email: `new-${target}@example.com`,
          password: 'Matrix-Password-1',
          role: target,
        });
        add(`change the email of a ${target}`, 'PUT', () => `/v1/users/${user().uid}?dry_run`, gate(caller, may(caller, target)), { email: `moved-${target}@example.com` });
        add(`set the password of a ${target} with PUT /v1/users/{uid}`, 'PUT', () => `/v1/users/${user().uid}?dry_run`, credentialGate(caller, target), { password: 'Matrix-Password-2' });
        for (const next of ROLES) {
          add(`move a ${target} to ${next}`, 'PUT', () => `/v1/users/${user().uid}?dry_run`, gate(caller, may(caller, target, next)), { role: next });
          add(`move a ${target} to role uid of ${next}`, 'PUT', () => `/v1/users/${user().uid}?dry_run`, gate(caller, may(caller, target, next)), { role_uids: [customRoles[next]] });
          add(`change a ${target} role's management to ${next}`, 'PUT', () => `/v1/roles/${customRoles[target]}?dry_run`, gate(caller, may(caller, target, next)), { management: next });
        }
        add(`create a ${target} role`, 'POST', () => '/v1/roles?dry_run', gate(caller, may(caller, target)), { name: `New ${target}`, management: target });
        add(`rename a ${target} role`, 'PUT', () => `/v1/roles/${customRoles[target]}?dry_run`, gate(caller, may(caller, target)), { name: `Renamed ${target}` });
        add(`delete a ${target} role`, 'DELETE', () => `/v1/roles/${customRoles[target]}?dry_run`, gate(caller, may(caller, target)));
        // No dry_run on these: only denials belong in the no-change batch; the allowed ones run after it.
        if (!(userAdmin(caller) && may(caller, target))) add(`delete a ${target}`, 'DELETE', () => `/v1/users/${user().uid}`, 'insufficient_permissions');
        if (caller !== 'admin') {
          for (const method of ['PUT', 'POST']) {
            add(`${method} /v1/users/password for a ${target}`, method, () => '/v1/users/password', 'unauthorized_action', { username: user().email, new_password: 'Matrix-Password-3' });
          }
        }
      }
      // Own password without the old one, on every route.
      const self = (): TestUser => callers[caller];
      cases.push({ name: `${caller}: own password via PUT /v1/users/{uid} without old_password`, caller, method: 'PUT', get path() { return `/v1/users/${self().uid}?dry_run`; }, body: { password: 'Matrix-Password-4' }, expected: 'unauthenticated' });
      for (const method of ['PUT', 'POST']) {
        cases.push({ name: `${caller}: own password via ${method} /v1/users/password without old_password`, caller, method, path: '/v1/users/password', body: { new_password: 'Matrix-Password-4' }, expected: 'unauthenticated' });
      }
      cases.push({
        name: `${caller}: own password via PUT /v1/users/{uid} with old_password`,
        caller,
        method: 'PUT',
        get path() { return `/v1/users/${self().uid}?dry_run`; },
        get body() { return { password: 'Matrix-Password-4', old_password: self().password }; },
        expected: 200,
      });
    }
    return cases;
  }

  async function runAll(cases: Case[]): Promise<string[]> {
    const mismatches: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const response = await call(c.method, c.path, callers[c.caller], c.body);
        const expectedStatus = c.expected === 200 ? 200 : c.expected === 'unauthenticated' ? 401 : 403;
        const ok = response.status === expectedStatus && (c.expected === 200 || response.json?.error_code === c.expected);
        if (!ok) mismatches.push(`${c.name}: expected ${c.expected}, got ${response.status} ${response.text}`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return mismatches;
  }

  it('answers every dry-run and denied case as the table says, and the whole batch changes nothing', async () => {
    const cases = buildCases();
    expect(cases.length).toBeGreaterThan(1000);
    const mismatches = await expectNoChange(node.dataDir, () => runAll(cases));
    expect(mismatches).toEqual([]);
  }, 300_000);

  it('lets exactly the allowed callers delete users and set other users’ passwords', async () => {
    const mismatches: string[] = [];
    for (const caller of ROLES) {
      for (const target of ROLES) {
        if (userAdmin(caller) && may(caller, target)) {
          const victim = await createTestUser(node, target, `m-victim-${caller}-${target}`);
          const response = await call('DELETE', `/v1/users/${victim.uid}`, callers[caller]);
          if (response.status !== 200) mismatches.push(`${caller} deletes a ${target}: ${response.status} ${response.text}`);
        }
      }
    }
    for (const target of ROLES) {
      for (const method of ['PUT', 'POST']) {
        const password = `Admin-Set-${method}-${target}-1`;
        const response = await call(method, '/v1/users/password', callers.admin, { username: targets[target].email, new_password: password });
        if (response.status !== 200) mismatches.push(`admin ${method}s the password of a ${target}: ${response.status} ${response.text}`);
        else if ((await call('GET', '/v1/users/role', { email: targets[target].email, password })).status !== 200) {
          mismatches.push(`the password the admin set for a ${target} does not log in`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 300_000);
});

describe('binding a role to a database needs that role’s rights (issue 17.2)', () => {
  let member: TestUser;

  beforeAll(async () => {
    member = await createTestUser(node, 'db_member', 'bind-member');
  });

  it('refuses a db_member creating a database that binds the Admin role (403), changing nothing', async () => {
    const response = await expectNoChange(node.dataDir, () =>
      call('POST', '/v1/bdbs', member, { name: 'harvest', memory_size: 1_048_576, roles_permissions: [{ role_uid: 1, redis_acl_uid: 1 }] }),
    );
    expectError(response, 403, 'insufficient_permissions');
    expect(response.json.description).toContain("'admin'");
  });

  it('refuses binding the User Manager or Cluster Member role too, but allows roles up to its own', async () => {
    for (const roleUid of [ROLE_UID.user_manager, ROLE_UID.cluster_member]) {
      const response = await expectNoChange(node.dataDir, () =>
        call('POST', '/v1/bdbs?dry_run', member, { name: 'harvest', memory_size: 1_048_576, roles_permissions: [{ role_uid: roleUid, redis_acl_uid: 1 }] }),
      );
      expectError(response, 403, 'insufficient_permissions');
    }
    const allowed = await call('POST', '/v1/bdbs?dry_run', member, {
      name: 'fine',
      memory_size: 1_048_576,
      roles_permissions: [{ role_uid: ROLE_UID.db_member, redis_acl_uid: 1 }, { role_uid: ROLE_UID.db_viewer, redis_acl_uid: 3 }],
    });
    expect(allowed.status, allowed.text).toBe(200);
  });

  it('refuses adding the Admin binding to an existing database, but lets the db_member change the rest of one an admin bound', async () => {
    const created = await call('POST', '/v1/bdbs', node.admin, { name: 'bound', memory_size: 1_048_576, roles_permissions: [{ role_uid: 1, redis_acl_uid: 1 }] });
    expect(created.status, created.text).toBe(200);
    const uid = created.json.uid as number;
    const plain = await call('POST', '/v1/bdbs', member, { name: 'plain', memory_size: 1_048_576 });
    expect(plain.status, plain.text).toBe(200);
    // Both redis-servers settle before the snapshot.
    await waitForActive(node.port, node.admin, uid);
    await waitForActive(node.port, node.admin, plain.json.uid);
    const response = await expectNoChange(node.dataDir, () =>
      call('PUT', `/v1/bdbs/${plain.json.uid}`, member, { roles_permissions: [{ role_uid: 1, redis_acl_uid: 1 }] }),
    );
    expectError(response, 403, 'insufficient_permissions');
    // The Admin binding an admin made stays; sending it back unchanged is not a new grant.
    const kept = await call('PUT', `/v1/bdbs/${uid}?dry_run`, member, { memory_size: 2_097_152, roles_permissions: [{ role_uid: 1, redis_acl_uid: 1 }] });
    expect(kept.status, kept.text).toBe(200);
  });
});

describe('data access granted through an existing binding needs the same rights as binding (review M4)', () => {
  let member: TestUser;
  let manager: TestUser;
  let aclUid: number;
  let bdbUid: number;

  beforeAll(async () => {
    member = await createTestUser(node, 'db_member', 'acl-member');
    manager = await createTestUser(node, 'user_manager', 'acl-manager');
    const acl = await call('POST', '/v1/redis_acls', node.admin, { name: 'Viewer Reads', acl: '+@read ~*' });
    expect(acl.status, acl.text).toBe(200);
    aclUid = acl.json.uid as number;
    // An admin binds Admin with Read Only (2) and DB Viewer with the custom read-only ACL.
    const created = await call('POST', '/v1/bdbs', node.admin, {
      name: 'acl-bound',
      memory_size: 1_048_576,
      roles_permissions: [
        { role_uid: ROLE_UID.admin, redis_acl_uid: 2 },
        { role_uid: ROLE_UID.db_viewer, redis_acl_uid: aclUid },
      ],
    });
    expect(created.status, created.text).toBe(200);
    bdbUid = created.json.uid as number;
    await waitForActive(node.port, node.admin, bdbUid);
  }, 120_000);

  it('refuses a db_member re-pointing the Admin binding from Read Only to Full Access (403), changing nothing', async () => {
    const bindings = [
      { role_uid: ROLE_UID.admin, redis_acl_uid: 1 },
      { role_uid: ROLE_UID.db_viewer, redis_acl_uid: aclUid },
    ];
    const response = await expectNoChange(node.dataDir, () => call('PUT', `/v1/bdbs/${bdbUid}`, member, { roles_permissions: bindings }));
    expectError(response, 403, 'insufficient_permissions');
    expect(response.json.description).toContain("'admin'");
    const stored = await call('GET', `/v1/bdbs/${bdbUid}`, node.admin);
    expect(stored.json.roles_permissions).toContainEqual({ role_uid: ROLE_UID.admin, redis_acl_uid: 2 });
    // Sent back unchanged (same role, same ACL), the binding is no new grant.
    const unchanged = await call('PUT', `/v1/bdbs/${bdbUid}?dry_run`, member, {
      memory_size: 2_097_152,
      roles_permissions: [
        { role_uid: ROLE_UID.admin, redis_acl_uid: 2 },
        { role_uid: ROLE_UID.db_viewer, redis_acl_uid: aclUid },
      ],
    });
    expect(unchanged.status, unchanged.text).toBe(200);
  });

  it('refuses a user_manager rewriting or deleting a Redis ACL a database binds (403), changing nothing', async () => {
    const rewrite = await expectNoChange(node.dataDir, () => call('PUT', `/v1/redis_acls/${aclUid}`, manager, { acl: '+@all ~*' }));
    expectError(rewrite, 403, 'insufficient_permissions');
    const removal = await expectNoChange(node.dataDir, () => call('DELETE', `/v1/redis_acls/${aclUid}`, manager));
    expectError(removal, 403, 'insufficient_permissions');
    expect((await call('GET', `/v1/redis_acls/${aclUid}`, node.admin)).json.acl).toBe('+@read ~*');
  });

  it('still lets a user_manager change an ACL no database binds, and an admin a bound one', async () => {
    const free = await call('POST', '/v1/redis_acls', manager, { name: 'Unbound', acl: '+@read ~*' });
    expect(free.status, free.text).toBe(200);
    const changed = await call('PUT', `/v1/redis_acls/${free.json.uid}`, manager, { acl: '+@all ~*' });
    expect(changed.status, changed.text).toBe(200);
    const byAdmin = await call('PUT', `/v1/redis_acls/${aclUid}?dry_run`, node.admin, { acl: '+@read +@write ~*' });
    expect(byAdmin.status, byAdmin.text).toBe(200);
  });
});
