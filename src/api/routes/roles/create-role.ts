// POST /v1/roles (digest §6.3): name and management are required (missing_field); names are unique.
// A role with management "none" is a database-only role, bound to Redis ACLs per database. `?dry_run`.
// Nobody creates a role with more management rights than their own (grant-rules.ts); role_created is logged.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { decideGrant } from '../../../domain/grant-rules.js';
import { assertUidFree, createEntity, retryThenConflict } from '../../state/entity-writes.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { assertGranted, grantActor } from '../grants.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRoleName, NewRoleBody, roleEntity } from './role-context.js';

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
    assertGranted(decideGrant(grantActor(caller), { op: 'create_role', management }));
    const created = await createEntity(deps.store, roleEntity, {
      requestedUid: body.uid,
      build: async (uid): Promise<RoleDefinition> => {
        await checkRoleName(deps, name, uid);
        await assertUidFree(deps.store, roleEntity, uid, 'Role');
        return { uid, name, management };
      },
      dryRun: isDryRun(query),
      onConflict: retryThenConflict('Roles were changed concurrently; retry'),
      alsoWrite: (role) => [entityChangeOp(deps.clock, caller, { type: 'role_created', target_type: 'role', target_uid: role.uid, target_name: role.name })],
    });
    return created.record;
  },
});
