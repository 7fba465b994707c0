// PUT /v1/redis_acls/{uid} (digest §6.3): predefined ACLs cannot be changed. Databases binding the ACL pick
// up the new rules (existing connections of its users get them too, as ACL SETUSER does). Changing an ACL a
// database binds needs the rights to bind each role bound with it (grant-rules.ts), so it grants nobody more.
import { defineRoute, isDryRun } from '../../route.js';
import * as redisAcls from '../../services/redis-acls.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { RedisAclUpdateBody } from './redis-acl-schemas.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const updateRedisAcl = defineRoute({
  method: 'PUT',
  url: '/v1/redis_acls/:uid',
  permission: 'update_redis_acl',
  errors: ['not_found', 'invalid_param', 'name_already_exists', 'config_edit_conflict'],
  schema: { params: UidParams, body: RedisAclUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => redisAcls.updateRedisAcl(deps, caller, parseUidParam(params.uid), body, isDryRun(query)),
});
