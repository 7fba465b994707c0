// DELETE /v1/roles/{uid} (digest §6.3): refused (406) for predefined roles, roles users hold, and roles a
// database binds in roles_permissions; nobody deletes a role with more management rights than their own
// (grant-rules.ts). role_deleted is logged.
import { defineRoute, isDryRun } from '../../route.js';
import * as roles from '../../services/roles.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteRole = defineRoute({
  method: 'DELETE',
  url: '/v1/roles/:uid',
  permission: 'delete_role',
  errors: ['not_found', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams, querystring: DryRunQuery },
  handler: async ({ deps, params, query, caller }) => {
    await roles.deleteRole(deps, caller, parseUidParam(params.uid), isDryRun(query));
    return {};
  },
});
