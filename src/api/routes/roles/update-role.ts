// PUT /v1/roles/{uid} (digest §6.3): predefined roles cannot be changed; a role's management role can change
// only while no user holds it (users carry their management role). `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import type { Compare, TxnOp } from '../../../store/cluster-store.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRoleName, isPredefinedRole, parseRoleUid, readRole, RoleUidParams, RoleUpdateBody, roleUsage } from './role-context.js';

export const updateRole = defineRoute({
  method: 'PUT',
  url: '/v1/roles/:uid',
  permission: 'update_role',
  schema: { params: RoleUidParams, body: RoleUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query }) => {
    const uid = parseRoleUid(params.uid);
    const { record: existing, modRevision } = await readRole(deps, uid);
    if (isPredefinedRole(uid)) throw new ApiError(406, 'invalid_param', `The predefined role '${existing.name}' cannot be changed`);
    if (body.uid !== undefined && body.uid !== uid) throw new ApiError(400, 'invalid_schema', "'uid' is read-only");
    const next: RoleDefinition = { uid, name: body.name ?? existing.name, management: body.management ?? existing.management };
    if (next.name !== existing.name) await checkRoleName(deps, next.name, uid);
    if (next.management !== existing.management) {
      const { users } = await roleUsage(deps, uid);
      if (users.length > 0) throw new ApiError(406, 'invalid_param', `Role ${uid} is held by user ${users.join(', ')}: its management role cannot change`);
    }
    if (isDryRun(query)) return next;
    const compare: Compare[] = [{ key: keys.role(uid), target: 'mod', op: '==', value: modRevision }];
    const ops: TxnOp[] = [{ type: 'put', key: keys.role(uid), value: JSON.stringify(next) }];
    if (next.name !== existing.name) {
      compare.push({ key: keys.roleNameIndex(next.name), target: 'version', op: '==', value: 0 });
      ops.push({ type: 'delete', key: keys.roleNameIndex(existing.name) }, { type: 'put', key: keys.roleNameIndex(next.name), value: String(uid) });
    }
    const result = await deps.store.txn({ compare, success: ops });
    if (!result.succeeded) throw new ApiError(409, 'config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
    return next;
  },
});
