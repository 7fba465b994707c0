// DELETE /v1/users/{uid} (digest §6.1): the last admin cannot be deleted.
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { assertAdminRemains } from './user-context.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteUser = defineRoute({
  method: 'DELETE',
  url: '/v1/users/:uid',
  permission: 'delete_user',
  schema: { params: UidParams },
  handler: async ({ deps, params }) => {
    const uid = parseUidParam(params.uid);
    const user = await deps.users.get(uid);
    if (user === undefined) throw new ApiError(404, 'not_found', `User ${uid} does not exist`);
    await assertAdminRemains(deps, user, undefined);
    await deps.users.delete(user);
    return {};
  },
});
