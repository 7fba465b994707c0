// GET /v1/redis_acls (digest §6.3): the predefined ACLs and the user-defined ones.
import { defineRoute } from '../../route.js';
import * as redisAcls from '../../services/redis-acls.js';

export const listRedisAclsRoute = defineRoute({
  method: 'GET',
  url: '/v1/redis_acls',
  permission: 'view_all_redis_acls_info',
  schema: {},
  handler: async ({ deps }) => redisAcls.listRedisAcls(deps),
});
