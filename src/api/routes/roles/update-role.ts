// PUT /v1/roles/{uid} (digest §6.3): predefined roles cannot be changed; a role's management role can change
// only while no user holds it (users carry their management role). `?dry_run` validates only. Nobody changes a
// role with more management rights than their own or raises one above their own (grant-rules.ts); role_updated
// is logged.
import { defineRoute, isDryRun } from '../../route.js';
import * as roles from '../../services/roles.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { RoleUpdateBody } from './role-schemas.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const updateRole = defineRoute({
  method: 'PUT',
  url: '/v1/roles/:uid',
  permission: 'update_role',
  errors: ['not_found', 'name_already_exists', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams, body: RoleUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => roles.updateRole(deps, caller, parseUidParam(params.uid), body, isDryRun(query)),
});
