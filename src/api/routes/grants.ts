// The routes' side of the grant rules (src/domain/grant-rules.ts): the caller as the rules see it, and a
// denial turned into the API's 403.
import { ApiError } from '../../lib/api-error.js';
import { decideGrant, type GrantActor, type GrantDecision } from '../../domain/grant-rules.js';
import type { RoleDefinition, RoleName } from '../../domain/rbac.js';
import { listJson } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import type { BdbRecord } from '../../domain/databases.js';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';

export function grantActor(caller: Caller): GrantActor {
  return { uid: caller.uid, role: caller.role };
}

/** Throws the 403 of a denied grant decision; returns whether the old password must be checked. */
export function assertGranted(decision: GrantDecision): { needsOldPassword: boolean } {
  if (!decision.ok) throw new ApiError(decision.error_code, decision.description);
  return { needsOldPassword: decision.needsOldPassword };
}

/**
 * A role is bound to a database (roles_permissions) only by someone holding at least that role's management
 * rights (issue 17.2). roleUids are the roles the request newly binds; unknown uids are left to validation.
 */
export async function assertMayBindRoles(deps: ApiDeps, caller: Caller, roleUids: readonly number[]): Promise<void> {
  if (roleUids.length === 0) return;
  const roles = await listJson<RoleDefinition>(deps.store, keys.rolePrefix);
  const managements = roleUids.map((uid) => roles.find((r) => r.uid === uid)?.management).filter((m): m is RoleName => m !== undefined);
  assertGranted(decideGrant(grantActor(caller), { op: 'bind_roles', managements }));
}

/**
 * A Redis ACL that a database binds is changed or deleted only by someone who could bind every role bound with
 * it (grant-rules.ts 'change_bound_redis_acl'); an ACL no database binds grants nothing yet.
 */
export async function assertMayChangeRedisAcl(deps: ApiDeps, caller: Caller, aclUid: number): Promise<void> {
  const [bdbs, roles] = await Promise.all([listJson<BdbRecord>(deps.store, keys.bdbPrefix), listJson<RoleDefinition>(deps.store, keys.rolePrefix)]);
  const roleUids = new Set(bdbs.flatMap((b) => b.roles_permissions.filter((p) => p.redis_acl_uid === aclUid).map((p) => p.role_uid)));
  // A bound role uid that no longer resolves counts as admin: nothing below admin may guess what it grants.
  const boundManagements = [...roleUids].map((uid): RoleName => roles.find((r) => r.uid === uid)?.management ?? 'admin');
  assertGranted(decideGrant(grantActor(caller), { op: 'change_bound_redis_acl', boundManagements }));
}
