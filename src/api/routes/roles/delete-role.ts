// DELETE /v1/roles/{uid} (digest §6.3): refused (406) for predefined roles, roles users hold, and roles a
// database binds in roles_permissions; nobody deletes a role with more management rights than their own
// (grant-rules.ts). role_deleted is logged.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { decideGrant } from '../../../domain/grant-rules.js';
import { deleteEntity } from '../../state/entity-writes.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { assertGranted, grantActor } from '../grants.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { isPredefinedRole, readRole, roleEntity, roleUsage } from './role-context.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteRole = defineRoute({
  method: 'DELETE',
  url: '/v1/roles/:uid',
  permission: 'delete_role',
  errors: ['not_found', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams, querystring: DryRunQuery },
  handler: async ({ deps, params, query, caller }) => {
    const uid = parseUidParam(params.uid);
    const { record, modRevision } = await readRole(deps, uid);
    assertGranted(decideGrant(grantActor(caller), { op: 'delete_role', management: record.management }));
    if (isPredefinedRole(uid)) throw new ApiError('invalid_param', `The predefined role '${record.name}' cannot be deleted`);
    const usage = await roleUsage(deps, uid);
    if (usage.users.length > 0) throw new ApiError('invalid_param', `Role ${uid} is held by user ${usage.users.join(', ')}`);
    if (usage.bdbs.length > 0) throw new ApiError('invalid_param', `Role ${uid} is bound in roles_permissions of database ${usage.bdbs.join(', ')}`);
    if (isDryRun(query)) return {};
    const event = entityChangeOp(deps.clock, caller, { type: 'role_deleted', target_type: 'role', target_uid: uid, target_name: record.name });
    const result = await deleteEntity(deps.store, roleEntity, uid, record, modRevision, [event]);
    if (!result.succeeded) throw new ApiError('config_edit_conflict', `Role ${uid} was changed concurrently; retry`);
    return {};
  },
});
