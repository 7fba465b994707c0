// POST /v1/roles (digest §6.3): name and management are required (missing_field); names are unique.
// A role with management "none" is a database-only role, bound to Redis ACLs per database. `?dry_run`.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { assertUidFree, createEntity, retryThenConflict } from '../../state/entity-writes.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRoleName, NewRoleBody, roleEntity } from './role-context.js';

export const createRole = defineRoute({
  method: 'POST',
  url: '/v1/roles',
  permission: 'create_role',
  schema: { body: NewRoleBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query }) => {
    const { name, management } = body;
    if (name === undefined) throw new ApiError(400, 'missing_field', 'A role needs a name');
    if (management === undefined) throw new ApiError(400, 'missing_field', 'A role needs a management role');
    const created = await createEntity(deps.store, roleEntity, {
      requestedUid: body.uid,
      build: async (uid): Promise<RoleDefinition> => {
        await checkRoleName(deps, name, uid);
        await assertUidFree(deps.store, roleEntity, uid, 'Role');
        return { uid, name, management };
      },
      dryRun: isDryRun(query),
      onConflict: retryThenConflict('Roles were changed concurrently; retry'),
    });
    return created.record;
  },
});
