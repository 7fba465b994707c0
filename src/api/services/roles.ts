// Roles in the store (digest §6.3): reading, name checks, who uses a role, and the create, update and delete
// transactions with their role_* events. Nobody creates, changes or deletes a role with more management rights
// than their own (grant-rules.ts). A role with management "none" is a database-only role, bound to Redis ACLs
// per database.
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import { listJson } from '../../store/cluster-store.js';
import { DEFAULT_ROLES, type RoleDefinition, type RoleName } from '../../domain/rbac.js';
import { decideGrant } from '../../domain/grant-rules.js';
import type { BdbRecord } from '../../domain/databases.js';
import type { UserRecord } from '../../domain/users.js';
import { assertUidFree, assertUidUnchanged, createEntity, deleteEntity, retryThenConflict, updateEntity, type EntityKind } from '../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../state/entity-events.js';
import { assertGranted, grantActor } from './grants.js';

const ROLE_NAME_PATTERN = /^[a-zA-Z0-9_ [\]()@,.;#-]{1,255}$/;

/** Roles by uid, with a unique name index. */
const roleEntity: EntityKind<RoleDefinition> = {
  counter: 'role_uid',
  key: keys.role,
  indexKeys: (role) => [keys.roleNameIndex(role.name)],
};

/** The fields a request may set (PUT: each optional, uid only repeated). */
export interface RoleFields {
  uid?: number | undefined;
  name?: string | undefined;
  management?: RoleName | undefined;
}

function isPredefinedRole(uid: number): boolean {
  return DEFAULT_ROLES.some((r) => r.uid === uid);
}

export function listRoles(deps: ApiDeps): Promise<RoleDefinition[]> {
  return listJson<RoleDefinition>(deps.store, keys.rolePrefix);
}

export async function getRole(deps: ApiDeps, uid: number): Promise<RoleDefinition> {
  return (await readRole(deps, uid)).record;
}

/** POST /v1/roles: name and management were checked present by the route. `dryRun` writes nothing. */
export async function createRole(deps: ApiDeps, caller: Caller, role: { uid?: number | undefined; name: string; management: RoleName }, dryRun: boolean): Promise<RoleDefinition> {
  const { name, management } = role;
  assertGranted(decideGrant(grantActor(caller), { op: 'create_role', management }));
  const created = await createEntity(deps.store, roleEntity, {
    requestedUid: role.uid,
    build: async (uid): Promise<RoleDefinition> => {
      await checkRoleName(deps, name, uid);
      await assertUidFree(deps.store, roleEntity, uid, 'Role');
      return { uid, name, management };
    },
    dryRun,
    onConflict: retryThenConflict('Roles were changed concurrently; retry'),
    alsoWrite: (written) => [entityChangeOp(deps.clock, caller, { type: 'role_created', target_type: 'role', target_uid: written.uid, target_name: written.name })],
  });
  return created.record;
}

/**
 * PUT /v1/roles/{uid}: predefined roles cannot be changed; a role's management role can change only while no
 * user holds it (users carry their management role). Written only over the version read.
 */
export async function updateRole(deps: ApiDeps, caller: Caller, uid: number, body: RoleFields, dryRun: boolean): Promise<RoleDefinition> {
  const { record: existing, modRevision } = await readRole(deps, uid);
  if (isPredefinedRole(uid)) throw new ApiError('invalid_param', `The predefined role '${existing.name}' cannot be changed`);
  assertUidUnchanged(body.uid, uid);
  const next: RoleDefinition = { uid, name: body.name ?? existing.name, management: body.management ?? existing.management };
  assertGranted(decideGrant(grantActor(caller), { op: 'update_role', from: existing.management, to: next.management }));
  if (next.name !== existing.name) await checkRoleName(deps, next.name, uid);
  if (next.management !== existing.management) {
    const { users } = await roleUsage(deps, uid);
    if (users.length > 0) throw new ApiError('invalid_param', `Role ${uid} is held by user ${users.join(', ')}: its management role cannot change`);
  }
  if (dryRun) return next;
  const event = entityChangeOp(deps.clock, caller, { type: 'role_updated', target_type: 'role', target_uid: uid, target_name: next.name, changed_fields: changedFields(existing, next) });
  const result = await updateEntity(deps.store, roleEntity, { uid, modRevision, previous: existing, next, alsoWrite: [event] });
  if (!result.succeeded) throw new ApiError('config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
  return next;
}

/** DELETE /v1/roles/{uid}: refused (406) for predefined roles, roles users hold, and roles a database binds. */
export async function deleteRole(deps: ApiDeps, caller: Caller, uid: number, dryRun: boolean): Promise<void> {
  const { record, modRevision } = await readRole(deps, uid);
  assertGranted(decideGrant(grantActor(caller), { op: 'delete_role', management: record.management }));
  if (isPredefinedRole(uid)) throw new ApiError('invalid_param', `The predefined role '${record.name}' cannot be deleted`);
  const usage = await roleUsage(deps, uid);
  if (usage.users.length > 0) throw new ApiError('invalid_param', `Role ${uid} is held by user ${usage.users.join(', ')}`);
  if (usage.bdbs.length > 0) throw new ApiError('invalid_param', `Role ${uid} is bound in roles_permissions of database ${usage.bdbs.join(', ')}`);
  if (dryRun) return;
  const event = entityChangeOp(deps.clock, caller, { type: 'role_deleted', target_type: 'role', target_uid: uid, target_name: record.name });
  const result = await deleteEntity(deps.store, roleEntity, uid, record, modRevision, [event]);
  if (!result.succeeded) throw new ApiError('config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
}

async function readRole(deps: ApiDeps, uid: number): Promise<{ record: RoleDefinition; modRevision: number }> {
  const kv = await deps.store.get(keys.role(uid));
  if (kv === undefined) throw new ApiError('not_found', `Role ${uid} does not exist`);
  return { record: JSON.parse(kv.value) as RoleDefinition, modRevision: kv.modRevision };
}

async function checkRoleName(deps: ApiDeps, name: string, uid: number): Promise<void> {
  if (!ROLE_NAME_PATTERN.test(name)) {
    throw new ApiError('invalid_schema', 'name must be 1-255 letters, digits, spaces and _ [ ] ( ) @ , . ; # -');
  }
  const roles = await listJson<RoleDefinition>(deps.store, keys.rolePrefix);
  if (roles.some((r) => r.name === name && r.uid !== uid)) throw new ApiError('name_already_exists', `A role named '${name}' already exists`);
}

/** Users holding the role and databases binding it. */
async function roleUsage(deps: ApiDeps, uid: number): Promise<{ users: number[]; bdbs: number[] }> {
  const [users, bdbs] = await Promise.all([listJson<UserRecord>(deps.store, keys.userPrefix), listJson<BdbRecord>(deps.store, keys.bdbPrefix)]);
  return {
    users: users.filter((u) => u.role_uids.includes(uid)).map((u) => u.uid),
    bdbs: bdbs.filter((b) => b.roles_permissions.some((p) => p.role_uid === uid)).map((b) => b.uid),
  };
}
