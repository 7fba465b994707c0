// PUT /v1/redis_acls/{uid} (digest §6.3): predefined ACLs cannot be changed. Databases binding the ACL pick
// up the new rules (existing connections of its users get them too, as ACL SETUSER does).
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import type { Compare, TxnOp } from '../../../store/cluster-store.js';
import { isPredefinedRedisAcl, type RedisAclRecord } from '../../../domain/redis-acls.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRedisAcl, parseAclUid, readRedisAcl, RedisAclUidParams, RedisAclUpdateBody } from './redis-acl-context.js';

export const updateRedisAcl = defineRoute({
  method: 'PUT',
  url: '/v1/redis_acls/:uid',
  permission: 'update_redis_acl',
  schema: { params: RedisAclUidParams, body: RedisAclUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query }) => {
    const uid = parseAclUid(params.uid);
    const { record: existing, modRevision } = await readRedisAcl(deps, uid);
    if (isPredefinedRedisAcl(uid)) throw new ApiError(406, 'invalid_param', `The predefined Redis ACL '${existing.name}' cannot be changed`);
    if (body.uid !== undefined && body.uid !== uid) throw new ApiError(400, 'invalid_schema', "'uid' is read-only");
    const next: RedisAclRecord = { uid, name: body.name ?? existing.name, acl: body.acl?.trim() ?? existing.acl };
    await checkRedisAcl(deps, next, existing.name);
    if (isDryRun(query)) return next;
    const compare: Compare[] = [{ key: keys.redisAcl(uid), target: 'mod', op: '==', value: modRevision ?? 0 }];
    const ops: TxnOp[] = [{ type: 'put', key: keys.redisAcl(uid), value: JSON.stringify(next) }];
    if (next.name !== existing.name) {
      compare.push({ key: keys.redisAclNameIndex(next.name), target: 'version', op: '==', value: 0 });
      ops.push({ type: 'delete', key: keys.redisAclNameIndex(existing.name) }, { type: 'put', key: keys.redisAclNameIndex(next.name), value: String(uid) });
    }
    const result = await deps.store.txn({ compare, success: ops });
    if (!result.succeeded) throw new ApiError(409, 'config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
    return next;
  },
});
