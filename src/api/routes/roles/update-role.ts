// PUT /v1/roles/{uid} (digest §6.3): predefined roles cannot be changed; a role's management role can change
// only while no user holds it (users carry their management role). `?dry_run` validates only. Nobody changes a
// role with more management rights than their own or raises one above their own (grant-rules.ts); role_updated
// is logged.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { decideGrant } from '../../../domain/grant-rules.js';
import { updateEntity } from '../../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../../state/entity-events.js';
import { assertGranted, grantActor } from '../grants.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRoleName, isPredefinedRole, readRole, roleEntity, RoleUpdateBody, roleUsage } from './role-context.js';
import { assertUidUnchanged, parseUidParam, UidParams } from '../uid-param.js';

export const updateRole = defineRoute({
  method: 'PUT',
  url: '/v1/roles/:uid',
  permission: 'update_role',
  errors: ['not_found', 'name_already_exists', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams, body: RoleUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => {
    const uid = parseUidParam(params.uid);
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
    if (isDryRun(query)) return next;
    const event = entityChangeOp(deps.clock, caller, { type: 'role_updated', target_type: 'role', target_uid: uid, target_name: next.name, changed_fields: changedFields(existing, next) });
    const result = await updateEntity(deps.store, roleEntity, { uid, modRevision, previous: existing, next, alsoWrite: [event] });
    if (!result.succeeded) throw new ApiError('config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
    return next;
  },
});
