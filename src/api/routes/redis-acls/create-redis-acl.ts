// POST /v1/redis_acls (digest §6.3): name and acl are required; the rule string may hold command, key and
// channel rules only. `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import type { RedisAclRecord } from '../../../domain/redis-acls.js';
import { assertUidFree, createEntity, retryThenConflict } from '../../state/entity-writes.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRedisAcl, NewRedisAclBody, redisAclEntity } from './redis-acl-context.js';

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
    const created = await createEntity(deps.store, redisAclEntity, {
      requestedUid: body.uid,
      build: async (uid) => {
        const record: RedisAclRecord = { uid, name, acl: acl.trim() };
        await checkRedisAcl(deps, record, undefined);
        await assertUidFree(deps.store, redisAclEntity, uid, 'Redis ACL');
        return record;
      },
      dryRun: isDryRun(query),
      onConflict: retryThenConflict('Redis ACLs were changed concurrently; retry'),
      alsoWrite: (acl) => [entityChangeOp(deps.clock, caller, { type: 'redis_acl_created', target_type: 'redis_acl', target_uid: acl.uid, target_name: acl.name })],
    });
    return created.record;
  },
});
