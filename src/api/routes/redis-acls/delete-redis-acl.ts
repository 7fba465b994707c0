// DELETE /v1/redis_acls/{uid} (digest §6.3): refused for predefined ACLs and for ACLs a database binds; a caller
// who could not bind the roles bound with it gets 403 first (grant-rules.ts).
import { defineRoute } from '../../route.js';
import * as redisAcls from '../../services/redis-acls.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteRedisAcl = defineRoute({
  method: 'DELETE',
  url: '/v1/redis_acls/:uid',
  permission: 'delete_redis_acl',
  errors: ['not_found', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams },
  handler: async ({ deps, params, caller }) => {
    await redisAcls.deleteRedisAcl(deps, caller, parseUidParam(params.uid));
    return {};
  },
});
