// GET /v1/roles/{uid} (digest §6.3).
import { defineRoute } from '../../route.js';
import { parseRoleUid, readRole, RoleUidParams } from './role-context.js';

export const getRole = defineRoute({
  method: 'GET',
  url: '/v1/roles/:uid',
  permission: 'view_role_info',
  schema: { params: RoleUidParams },
  handler: async ({ deps, params }) => (await readRole(deps, parseRoleUid(params.uid))).record,
});
