// GET /v1/users (digest §6.1).
import { defineRoute } from '../../route.js';
import * as users from '../../services/users.js';

export const listUsers = defineRoute({
  method: 'GET',
  url: '/v1/users',
  permission: 'view_all_users_info',
  schema: {},
  handler: async ({ deps }) => users.listUsers(deps),
});
