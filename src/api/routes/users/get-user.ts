// GET /v1/users/{uid}: view_user_info, or the caller's own user.
import { defineRoute } from '../../route.js';
import { hasPermission } from '../../../domain/rbac.js';
import { ApiError } from '../../../lib/api-error.js';
import * as users from '../../services/users.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const getUser = defineRoute({
  method: 'GET',
  url: '/v1/users/:uid',
  permission: 'authenticated',
  errors: ['not_found', 'insufficient_permissions'],
  schema: { params: UidParams },
  handler: async ({ deps, params, caller }) => {
    const uid = parseUidParam(params.uid);
    if (uid !== caller.uid && !hasPermission(caller.role, 'view_user_info')) {
      throw new ApiError('insufficient_permissions', "This action requires the 'view_user_info' permission");
    }
    return users.getUser(deps, uid);
  },
});
