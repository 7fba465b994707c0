// POST /v1/roles (digest §6.3): name and management are required (missing_field); names are unique.
// A role with management "none" is a database-only role, bound to Redis ACLs per database. `?dry_run`.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRoleName, NewRoleBody } from './role-context.js';

export const createRole = defineRoute({
  method: 'POST',
  url: '/v1/roles',
  permission: 'create_role',
  schema: { body: NewRoleBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query }) => {
    if (body.name === undefined) throw new ApiError(400, 'missing_field', 'A role needs a name');
    if (body.management === undefined) throw new ApiError(400, 'missing_field', 'A role needs a management role');
    for (let attempt = 1; ; attempt++) {
      const counter = await deps.store.get(keys.counter('role_uid'));
      const last = counter === undefined ? 0 : Number(counter.value);
      const uid = body.uid ?? last + 1;
      const record: RoleDefinition = { uid, name: body.name, management: body.management };
      await checkRoleName(deps, record.name, uid);
      if ((await deps.store.get(keys.role(uid))) !== undefined) throw new ApiError(409, 'uid_exists', `Role ${uid} already exists`);
      if (isDryRun(query)) return record;
      const result = await deps.store.txn({
        compare: [
          { key: keys.counter('role_uid'), target: 'version', op: '==', value: counter?.version ?? 0 },
          { key: keys.role(uid), target: 'version', op: '==', value: 0 },
          { key: keys.roleNameIndex(record.name), target: 'version', op: '==', value: 0 },
        ],
        success: [
          { type: 'put', key: keys.counter('role_uid'), value: String(Math.max(last, uid)) },
          { type: 'put', key: keys.role(uid), value: JSON.stringify(record) },
          { type: 'put', key: keys.roleNameIndex(record.name), value: String(uid) },
        ],
      });
      if (result.succeeded) return record;
      if (attempt >= 5) throw new ApiError(409, 'config_edit_conflict', 'Roles were changed concurrently; retry');
    }
  },
});
