// The whole grant matrix (issue 17.1): every management role × every user and role operation × every target
// role, checked against an oracle written out by hand below (not derived from MANAGEMENT_RANK).
import { describe, expect, it } from 'vitest';
import { ROLE_NAMES, ROLE_PERMISSIONS, type RoleName } from './rbac.js';
import { MAY_GRANT } from '../../test/helpers/grant-oracle.js';
import { checkSelfService, decideGrant, highestManagement, MANAGEMENT_RANK, type GrantDecision, type GrantRequest } from './grant-rules.js';

/** Holders of create_new_user, update_user, delete_user, create_role, update_role, delete_role (digest §6.4). */
const USER_ADMINS: readonly RoleName[] = ['admin', 'user_manager'];

type Expected = 'allow' | 'allow+old' | 'insufficient_permissions' | 'unauthorized_action';

const CALLER_UID = 10;
const OTHER_UID = 20;
const may = (caller: RoleName, ...targets: RoleName[]): boolean => targets.every((t) => MAY_GRANT[caller].includes(t));
const userAdmin = (caller: RoleName): boolean => USER_ADMINS.includes(caller);

interface Case {
  name: string;
  caller: RoleName;
  request: GrantRequest;
  expected: Expected;
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, caller: RoleName, request: GrantRequest, expected: Expected): void => {
    cases.push({ name, caller, request, expected });
  };
  for (const caller of ROLE_NAMES) {
    for (const target of ROLE_NAMES) {
      const other = { uid: OTHER_UID, rights: target };
      const gate = (ok: boolean): Expected => (userAdmin(caller) && ok ? 'allow' : 'insufficient_permissions');
      add(`create user as ${target}`, caller, { op: 'create_user', grants: [target] }, gate(may(caller, target)));
      add(`change email of a ${target}`, caller, { op: 'update_user', target: other, fields: ['email'], changesCredentials: false }, gate(may(caller, target)));
      add(
        `set password of a ${target} via PUT /v1/users/{uid}`,
        caller,
        { op: 'update_user', target: other, fields: ['password'], changesCredentials: true },
        !userAdmin(caller) || !may(caller, target) ? 'insufficient_permissions' : caller === 'admin' ? 'allow' : 'unauthorized_action',
      );
      add(
        `make a ${target} a certificate user`,
        caller,
        { op: 'update_user', target: other, fields: ['auth_method', 'certificate_subject_line'], changesCredentials: true },
        !userAdmin(caller) || !may(caller, target) ? 'insufficient_permissions' : caller === 'admin' ? 'allow' : 'unauthorized_action',
      );
      add(`delete a ${target}`, caller, { op: 'delete_user', target: other }, gate(may(caller, target)));
      add(`set password of a ${target} via /v1/users/password`, caller, { op: 'set_password', target: other }, caller === 'admin' ? 'allow' : 'unauthorized_action');
      add(`create a role with management ${target}`, caller, { op: 'create_role', management: target }, gate(may(caller, target)));
      add(`delete a role with management ${target}`, caller, { op: 'delete_role', management: target }, gate(may(caller, target)));
      add(`rename a role with management ${target}`, caller, { op: 'update_role', from: target, to: target }, gate(may(caller, target)));
      add(`bind a role with management ${target} to a database`, caller, { op: 'bind_roles', managements: [target] }, may(caller, target) ? 'allow' : 'insufficient_permissions');
      add(
        `change a Redis ACL bound with a role with management ${target}`,
        caller,
        { op: 'change_bound_redis_acl', boundManagements: [target] },
        ROLE_PERMISSIONS[caller].has('update_bdb') && may(caller, target) ? 'allow' : 'insufficient_permissions',
      );
      add(
        `give itself role ${target}`,
        caller,
        { op: 'update_user', target: { uid: CALLER_UID, rights: caller }, fields: ['role'], grants: [target], changesCredentials: false },
        gate(may(caller, target)),
      );
      for (const next of ROLE_NAMES) {
        add(
          `move a ${target} to role ${next}`,
          caller,
          { op: 'update_user', target: other, fields: ['role_uids'], grants: [next], changesCredentials: false },
          gate(may(caller, target, next)),
        );
        add(`change a role's management from ${target} to ${next}`, caller, { op: 'update_role', from: target, to: next }, gate(may(caller, target, next)));
      }
    }
    // Own password: always allowed, always with the old one; on every route.
    const self = { uid: CALLER_UID, rights: caller };
    add('set own password via /v1/users/password', caller, { op: 'set_password', target: self }, 'allow+old');
    add('set own password via PUT /v1/users/{uid}', caller, { op: 'update_user', target: self, fields: ['password'], changesCredentials: true }, 'allow+old');
    add('rename itself', caller, { op: 'update_user', target: self, fields: ['name', 'email_alerts'], changesCredentials: false }, 'allow');
    add('change own email', caller, { op: 'update_user', target: self, fields: ['email'], changesCredentials: false }, userAdmin(caller) ? 'allow' : 'insufficient_permissions');
  }
  return cases;
}

function outcome(decision: GrantDecision): Expected {
  if (!decision.ok) return decision.error_code;
  return decision.needsOldPassword ? 'allow+old' : 'allow';
}

describe('grant rules: the full matrix', () => {
  const cases = buildCases();

  it('covers every role × operation × target role', () => {
    // 7 callers × (7 targets × 12 single-target cases + 49 × 2 two-role cases + 4 self cases)
    expect(cases).toHaveLength(7 * (7 * 12 + 49 * 2 + 4));
  });

  it('decides every case as the written-out table says', () => {
    const mismatches = cases
      .map((c) => ({ c, got: outcome(decideGrant({ uid: CALLER_UID, role: c.caller }, c.request)) }))
      .filter(({ c, got }) => got !== c.expected)
      .map(({ c, got }) => `${c.caller}: ${c.name}: expected ${c.expected}, got ${got}`);
    expect(mismatches).toEqual([]);
  });

  it('denies with 403 and a description naming the rule', () => {
    const denied = decideGrant({ uid: CALLER_UID, role: 'user_manager' }, { op: 'create_user', grants: ['admin'] });
    expect(denied).toEqual({
      ok: false,
      error_code: 'insufficient_permissions',
      description: expect.stringContaining("management 'admin'"),
    });
  });

  it('checks every role of a multi-role grant', () => {
    const actor = { uid: CALLER_UID, role: 'user_manager' as const };
    expect(decideGrant(actor, { op: 'create_user', grants: ['db_viewer', 'admin'] }).ok).toBe(false);
    expect(decideGrant(actor, { op: 'create_user', grants: ['db_viewer', 'cluster_member'] }).ok).toBe(true);
    expect(decideGrant(actor, { op: 'bind_roles', managements: ['none', 'admin'] }).ok).toBe(false);
  });

  it('lets only someone who could bind its roles change a bound Redis ACL (a user_manager changes only unbound ones)', () => {
    const manager = { uid: CALLER_UID, role: 'user_manager' as const };
    expect(decideGrant(manager, { op: 'change_bound_redis_acl', boundManagements: [] }).ok).toBe(true);
    expect(decideGrant(manager, { op: 'change_bound_redis_acl', boundManagements: ['db_viewer'] })).toMatchObject({ ok: false, error_code: 'insufficient_permissions' });
    expect(decideGrant({ uid: CALLER_UID, role: 'admin' }, { op: 'change_bound_redis_acl', boundManagements: ['admin', 'none'] }).ok).toBe(true);
    expect(decideGrant({ uid: CALLER_UID, role: 'cluster_member' }, { op: 'change_bound_redis_acl', boundManagements: ['db_viewer', 'admin'] }).ok).toBe(false);
  });

  it('refuses a foreign target before it is looked up, for callers without update_user', () => {
    for (const role of ROLE_NAMES) {
      const actor = { uid: CALLER_UID, role };
      expect(checkSelfService(actor, OTHER_UID, ['name']).ok).toBe(userAdmin(role));
      expect(checkSelfService(actor, CALLER_UID, ['name', 'password', 'old_password']).ok).toBe(true);
      expect(checkSelfService(actor, CALLER_UID, ['role']).ok).toBe(userAdmin(role));
    }
  });
});

describe('management rank', () => {
  it('is a linear extension of the digest matrix: a role whose permissions are a strict subset ranks lower', () => {
    const subset = (a: RoleName, b: RoleName): boolean => [...ROLE_PERMISSIONS[a]].every((p) => ROLE_PERMISSIONS[b].has(p));
    for (const a of ROLE_NAMES) {
      for (const b of ROLE_NAMES) {
        if (a !== b && subset(a, b) && !subset(b, a)) expect(MANAGEMENT_RANK[a], `${a} ⊂ ${b}`).toBeLessThan(MANAGEMENT_RANK[b]);
      }
    }
  });

  it('is only partly implied by the matrix (the policy choices the module comment explains)', () => {
    const has = (role: RoleName, p: string): boolean => (ROLE_PERMISSIONS[role] as ReadonlySet<string>).has(p);
    expect(has('cluster_viewer', 'view_all_metrics') && !has('db_member', 'view_all_metrics')).toBe(true);
    expect(has('cluster_member', 'create_bdb') && !has('user_manager', 'create_bdb')).toBe(true);
  });

  it('takes the highest management among several roles', () => {
    expect(highestManagement([])).toBe('none');
    expect(highestManagement(['db_viewer', 'admin', 'none'])).toBe('admin');
    expect(highestManagement(['cluster_viewer', 'db_member'])).toBe('db_member');
  });
});
