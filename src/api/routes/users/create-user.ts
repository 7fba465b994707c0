// POST /v1/users (digest §6.1): 200 with the created user; `?dry_run` validates only. Nobody creates a user
// with more management rights than their own (grant-rules.ts); the user_created event is written with it.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { completeUserRecord, validateNewUser } from '../../../domain/users.js';
import { decideGrant } from '../../../domain/grant-rules.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertGranted, grantActor } from '../grants.js';
import { managementsOf, unwrapRule, userResponse, userRulesContext } from './user-context.js';
import { NewUserBody } from './user-schemas.js';

export const createUser = defineRoute({
  method: 'POST',
  url: '/v1/users',
  permission: 'create_new_user',
  errors: ['email_already_exists', 'name_already_exists', 'subject_line_already_exists', 'uid_exists', 'invalid_subject_line', 'password_not_complex', 'missing_password', 'unknown_role', 'certificate_expired', 'certificate_not_yet_valid'],
  schema: { body: NewUserBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query, caller }) => {
    const ctx = await userRulesContext(deps);
    const accepted = unwrapRule(validateNewUser(body, { ...ctx, uid: body.uid ?? 0 }));
    assertGranted(decideGrant(grantActor(caller), { op: 'create_user', grants: managementsOf(accepted.record, ctx.roles) }));
    if (isDryRun(query)) {
      if (accepted.record.email !== '' && (await deps.users.findByEmail(accepted.record.email)) !== undefined) {
        throw new ApiError('email_already_exists', 'A user with this email already exists');
      }
      return userResponse(deps, accepted.record, ctx.cluster);
    }
    const { uid: _placeholder, ...record } = await completeUserRecord(accepted);
    const created = await deps.users.create(body.uid === undefined ? record : { ...record, uid: body.uid }, (user) => [
      entityChangeOp(deps.clock, caller, { type: 'user_created', target_type: 'user', target_uid: user.uid, target_name: user.name }),
    ]);
    return userResponse(deps, created, ctx.cluster);
  },
});
