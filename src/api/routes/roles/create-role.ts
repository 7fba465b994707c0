// POST /v1/roles (digest §6.3): name and management are required (missing_field); names are unique.
// A role with management "none" is a database-only role, bound to Redis ACLs per database. `?dry_run`.
// Nobody creates a role with more management rights than their own (grant-rules.ts); role_created is logged.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import * as roles from '../../services/roles.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { NewRoleBody } from './role-schemas.js';

export const createRole = defineRoute({
  method: 'POST',
  url: '/v1/roles',
  permission: 'create_role',
  errors: ['missing_field', 'name_already_exists', 'uid_exists', 'config_edit_conflict'],
  schema: { body: NewRoleBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query, caller }) => {
    const { name, management } = body;
    if (name === undefined) throw new ApiError('missing_field', 'A role needs a name');
    if (management === undefined) throw new ApiError('missing_field', 'A role needs a management role');
    return roles.createRole(deps, caller, { uid: body.uid, name, management }, isDryRun(query));
  },
});
