// DELETE /v1/users/{uid} (digest §6.1): the last admin cannot be deleted, and nobody deletes a user with
// more management rights than their own (grant-rules.ts). The user_deleted event is written with it.
import { defineRoute } from '../../route.js';
import * as users from '../../services/users.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteUser = defineRoute({
  method: 'DELETE',
  url: '/v1/users/:uid',
  permission: 'delete_user',
  errors: ['not_found', 'change_last_admin_role_not_allowed', 'config_edit_conflict'],
  schema: { params: UidParams },
  handler: async ({ deps, params, caller }) => {
    await users.deleteUser(deps, caller, parseUidParam(params.uid));
    return {};
  },
});
