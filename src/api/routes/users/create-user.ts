// POST /v1/users (digest §6.1): 200 with the created user; `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { completeUserRecord, validateNewUser } from '../../../domain/users.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { unwrapRule, userResponse, userRulesContext } from './user-context.js';
import { NewUserBody } from './user-schemas.js';

export const createUser = defineRoute({
  method: 'POST',
  url: '/v1/users',
  permission: 'create_new_user',
  schema: { body: NewUserBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query }) => {
    const ctx = await userRulesContext(deps);
    const accepted = unwrapRule(validateNewUser(body, { ...ctx, uid: body.uid ?? 0 }));
    if (isDryRun(query)) {
      if (accepted.record.email !== '' && (await deps.users.findByEmail(accepted.record.email)) !== undefined) {
        throw new ApiError(409, 'email_already_exists', 'A user with this email already exists');
      }
      return userResponse(deps, accepted.record, ctx.cluster);
    }
    const { uid: _placeholder, ...record } = await completeUserRecord(accepted);
    const created = await deps.users.create(body.uid === undefined ? record : { ...record, uid: body.uid });
    return userResponse(deps, created, ctx.cluster);
  },
});
