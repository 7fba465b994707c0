// What the role routes share (digest §6.3): schemas, where roles live in the store, reading a role, name checks,
// and who uses a role.
import { Type } from 'typebox';
import type { ApiDeps } from '../../api-deps.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { listJson } from '../../../store/cluster-store.js';
import { DEFAULT_ROLES, ROLE_NAMES, type RoleDefinition } from '../../../domain/rbac.js';
import type { BdbRecord } from '../../../domain/databases.js';
import type { UserRecord } from '../../../domain/users.js';
import type { EntityKind } from '../../state/entity-writes.js';

const ROLE_NAME_PATTERN = /^[a-zA-Z0-9_ [\]()@,.;#-]{1,255}$/;

const fields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  management: Type.Optional(Type.Union(ROLE_NAMES.map((r) => Type.Literal(r)))),
  // Read-only on the wire; accepted and ignored.
  account_id: Type.Optional(Type.Integer()),
  action_uid: Type.Optional(Type.String({ maxLength: 64 })),
};
export const NewRoleBody = Type.Object({ uid: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999 })), ...fields }, { additionalProperties: false });
export const RoleUpdateBody = Type.Object({ uid: Type.Optional(Type.Integer()), ...fields }, { additionalProperties: false });

/** Roles by uid, with a unique name index. */
export const roleEntity: EntityKind<RoleDefinition> = {
  counter: 'role_uid',
  key: keys.role,
  indexKeys: (role) => [keys.roleNameIndex(role.name)],
};

export function isPredefinedRole(uid: number): boolean {
  return DEFAULT_ROLES.some((r) => r.uid === uid);
}

export async function readRole(deps: ApiDeps, uid: number): Promise<{ record: RoleDefinition; modRevision: number }> {
  const kv = await deps.store.get(keys.role(uid));
  if (kv === undefined) throw new ApiError('not_found', `Role ${uid} does not exist`);
  return { record: JSON.parse(kv.value) as RoleDefinition, modRevision: kv.modRevision };
}

export async function checkRoleName(deps: ApiDeps, name: string, uid: number): Promise<void> {
  if (!ROLE_NAME_PATTERN.test(name)) {
    throw new ApiError('invalid_schema', 'name must be 1-255 letters, digits, spaces and _ [ ] ( ) @ , . ; # -');
  }
  const roles = await listJson<RoleDefinition>(deps.store, keys.rolePrefix);
  if (roles.some((r) => r.name === name && r.uid !== uid)) throw new ApiError('name_already_exists', `A role named '${name}' already exists`);
}

/** Users holding the role and databases binding it. */
export async function roleUsage(deps: ApiDeps, uid: number): Promise<{ users: number[]; bdbs: number[] }> {
  const [users, bdbs] = await Promise.all([listJson<UserRecord>(deps.store, keys.userPrefix), listJson<BdbRecord>(deps.store, keys.bdbPrefix)]);
  return {
    users: users.filter((u) => u.role_uids.includes(uid)).map((u) => u.uid),
    bdbs: bdbs.filter((b) => b.roles_permissions.some((p) => p.role_uid === uid)).map((b) => b.uid),
  };
}
