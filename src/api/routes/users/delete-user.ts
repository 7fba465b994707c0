// DELETE /v1/users/{uid} (digest §6.1): the last admin cannot be deleted, and nobody deletes a user with
// more management rights than their own (grant-rules.ts). The user_deleted event is written with it.
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { decideGrant } from '../../../domain/grant-rules.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { assertGranted, grantActor } from '../grants.js';
import { assertAdminRemains, grantTarget, userRulesContext } from './user-context.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteUser = defineRoute({
  method: 'DELETE',
  url: '/v1/users/:uid',
  permission: 'delete_user',
  errors: ['not_found', 'change_last_admin_role_not_allowed', 'config_edit_conflict'],
  schema: { params: UidParams },
  handler: async ({ deps, params, caller }) => {
    const uid = parseUidParam(params.uid);
    // The delete compares this read's revision and the remaining admins': a user promoted meanwhile is not deleted.
    const read = await deps.users.getWithRevision(uid);
    if (read === undefined) throw new ApiError('not_found', `User ${uid} does not exist`);
    const user = read.record;
    const { roles } = await userRulesContext(deps);
    assertGranted(decideGrant(grantActor(caller), { op: 'delete_user', target: grantTarget(user, roles) }));
    const adminGuards = await assertAdminRemains(deps, user, undefined);
    const event = entityChangeOp(deps.clock, caller, { type: 'user_deleted', target_type: 'user', target_uid: user.uid, target_name: user.name });
    await deps.users.delete(read, [event], adminGuards);
    return {};
  },
});
