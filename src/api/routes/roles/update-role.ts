// PUT /v1/roles/{uid} (digest §6.3): predefined roles cannot be changed; a role's management role can change
// only while no user holds it (users carry their management role). `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { updateEntity } from '../../state/entity-writes.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRoleName, isPredefinedRole, readRole, roleEntity, RoleUpdateBody, roleUsage } from './role-context.js';
import { assertUidUnchanged, parseUidParam, UidParams } from '../uid-param.js';

export const updateRole = defineRoute({
  method: 'PUT',
  url: '/v1/roles/:uid',
  permission: 'update_role',
  schema: { params: UidParams, body: RoleUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query }) => {
    const uid = parseUidParam(params.uid);
    const { record: existing, modRevision } = await readRole(deps, uid);
    if (isPredefinedRole(uid)) throw new ApiError(406, 'invalid_param', `The predefined role '${existing.name}' cannot be changed`);
    assertUidUnchanged(body.uid, uid);
    const next: RoleDefinition = { uid, name: body.name ?? existing.name, management: body.management ?? existing.management };
    if (next.name !== existing.name) await checkRoleName(deps, next.name, uid);
    if (next.management !== existing.management) {
      const { users } = await roleUsage(deps, uid);
      if (users.length > 0) throw new ApiError(406, 'invalid_param', `Role ${uid} is held by user ${users.join(', ')}: its management role cannot change`);
    }
    if (isDryRun(query)) return next;
    const result = await updateEntity(deps.store, roleEntity, { uid, modRevision, previous: existing, next });
    if (!result.succeeded) throw new ApiError(409, 'config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
    return next;
  },
});
