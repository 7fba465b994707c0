// POST /v1/redis_acls (digest §6.3): name and acl are required; the rule string may hold command, key and
// channel rules only. `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { FIRST_CUSTOM_REDIS_ACL_UID, type RedisAclRecord } from '../../../domain/redis-acls.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRedisAcl, NewRedisAclBody } from './redis-acl-context.js';

export const createRedisAcl = defineRoute({
  method: 'POST',
  url: '/v1/redis_acls',
  permission: 'create_redis_acl',
  schema: { body: NewRedisAclBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query }) => {
    if (body.name === undefined) throw new ApiError(400, 'missing_field', 'A Redis ACL needs a name');
    if (body.acl === undefined) throw new ApiError(400, 'missing_field', 'A Redis ACL needs an acl rule string');
    for (let attempt = 1; ; attempt++) {
      const counter = await deps.store.get(keys.counter('redis_acl_uid'));
      const last = counter === undefined ? FIRST_CUSTOM_REDIS_ACL_UID - 1 : Number(counter.value);
      const uid = body.uid ?? last + 1;
      const record: RedisAclRecord = { uid, name: body.name, acl: body.acl.trim() };
      await checkRedisAcl(deps, record, undefined);
      if ((await deps.store.get(keys.redisAcl(uid))) !== undefined) throw new ApiError(409, 'uid_exists', `Redis ACL ${uid} already exists`);
      if (isDryRun(query)) return record;
      const result = await deps.store.txn({
        compare: [
          { key: keys.counter('redis_acl_uid'), target: 'version', op: '==', value: counter?.version ?? 0 },
          { key: keys.redisAcl(uid), target: 'version', op: '==', value: 0 },
          { key: keys.redisAclNameIndex(record.name), target: 'version', op: '==', value: 0 },
        ],
        success: [
          { type: 'put', key: keys.counter('redis_acl_uid'), value: String(Math.max(last, uid)) },
          { type: 'put', key: keys.redisAcl(uid), value: JSON.stringify(record) },
          { type: 'put', key: keys.redisAclNameIndex(record.name), value: String(uid) },
        ],
      });
      if (result.succeeded) return record;
      if (attempt >= 5) throw new ApiError(409, 'config_edit_conflict', 'Redis ACLs were changed concurrently; retry');
    }
  },
});
