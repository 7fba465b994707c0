// GET /v1/redis_acls/{uid} (digest §6.3).
import { defineRoute } from '../../route.js';
import * as redisAcls from '../../services/redis-acls.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const getRedisAcl = defineRoute({
  method: 'GET',
  url: '/v1/redis_acls/:uid',
  permission: 'view_redis_acl_info',
  errors: ['not_found'],
  schema: { params: UidParams },
  handler: async ({ deps, params }) => redisAcls.getRedisAcl(deps, parseUidParam(params.uid)),
});
