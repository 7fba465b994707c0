// GET /v1/roles (digest §6.3): the predefined management roles (and, later, custom ones).
import { defineRoute } from '../../route.js';
import * as roles from '../../services/roles.js';

export const listRoles = defineRoute({
  method: 'GET',
  url: '/v1/roles',
  permission: 'view_all_roles_info',
  schema: {},
  handler: async ({ deps }) => roles.listRoles(deps),
});
