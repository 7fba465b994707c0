// GET /v1/roles/{uid} (digest §6.3).
import { defineRoute } from '../../route.js';
import { readRole } from './role-context.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const getRole = defineRoute({
  method: 'GET',
  url: '/v1/roles/:uid',
  permission: 'view_role_info',
  errors: ['not_found'],
  schema: { params: UidParams },
  handler: async ({ deps, params }) => (await readRole(deps, parseUidParam(params.uid))).record,
});
