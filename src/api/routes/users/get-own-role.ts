// GET /v1/users/role: who the server thinks the caller is. RS answers {role}; certplane adds uid, name,
// email, auth_method and how this request authenticated, so operators can debug a certificate mapping.
import { defineRoute } from '../../route.js';

export const getOwnRole = defineRoute({
  method: 'GET',
  url: '/v1/users/role',
  permission: 'authenticated',
  schema: {},
  handler: async ({ caller }) => ({
    role: caller.role,
    uid: caller.uid,
    name: caller.name,
    email: caller.email,
    auth_method: caller.auth_method,
    authenticated_with: caller.via,
  }),
});
