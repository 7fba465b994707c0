// GET /v1/roles/{uid} (digest §6.3).
import { defineRoute } from '../../route.js';
import * as roles from '../../services/roles.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const getRole = defineRoute({
  method: 'GET',
  url: '/v1/roles/:uid',
  permission: 'view_role_info',
  errors: ['not_found'],
  schema: { params: UidParams },
  handler: async ({ deps, params }) => roles.getRole(deps, parseUidParam(params.uid)),
});
