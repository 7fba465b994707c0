// POST /v1/redis_acls (digest §6.3): name and acl are required; the rule string may hold command, key and
// channel rules only. `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import * as redisAcls from '../../services/redis-acls.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { NewRedisAclBody } from './redis-acl-schemas.js';

export const createRedisAcl = defineRoute({
  method: 'POST',
  url: '/v1/redis_acls',
  permission: 'create_redis_acl',
  errors: ['missing_field', 'invalid_param', 'name_already_exists', 'uid_exists', 'config_edit_conflict'],
  schema: { body: NewRedisAclBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query, caller }) => {
    const { name, acl } = body;
    if (name === undefined) throw new ApiError('missing_field', 'A Redis ACL needs a name');
    if (acl === undefined) throw new ApiError('missing_field', 'A Redis ACL needs an acl rule string');
    return redisAcls.createRedisAcl(deps, caller, { uid: body.uid, name, acl }, isDryRun(query));
  },
});
