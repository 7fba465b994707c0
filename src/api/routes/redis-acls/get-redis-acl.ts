// GET /v1/redis_acls/{uid} (digest §6.3).
import { defineRoute } from '../../route.js';
import { parseAclUid, readRedisAcl, RedisAclUidParams } from './redis-acl-context.js';

export const getRedisAcl = defineRoute({
  method: 'GET',
  url: '/v1/redis_acls/:uid',
  permission: 'view_redis_acl_info',
  schema: { params: RedisAclUidParams },
  handler: async ({ deps, params }) => (await readRedisAcl(deps, parseAclUid(params.uid))).record,
});
