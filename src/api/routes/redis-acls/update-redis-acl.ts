// PUT /v1/redis_acls/{uid} (digest §6.3): predefined ACLs cannot be changed. Databases binding the ACL pick
// up the new rules (existing connections of its users get them too, as ACL SETUSER does). Changing an ACL a
// database binds needs the rights to bind each role bound with it (grant-rules.ts), so it grants nobody more.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { isPredefinedRedisAcl, type RedisAclRecord } from '../../../domain/redis-acls.js';
import { updateEntity } from '../../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../../state/entity-events.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { checkRedisAcl, readRedisAcl, redisAclEntity, RedisAclUpdateBody } from './redis-acl-context.js';
import { assertMayChangeRedisAcl } from '../grants.js';
import { assertUidUnchanged, parseUidParam, UidParams } from '../uid-param.js';

export const updateRedisAcl = defineRoute({
  method: 'PUT',
  url: '/v1/redis_acls/:uid',
  permission: 'update_redis_acl',
  errors: ['not_found', 'invalid_param', 'name_already_exists', 'config_edit_conflict'],
  schema: { params: UidParams, body: RedisAclUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => {
    const uid = parseUidParam(params.uid);
    const { record: existing, modRevision } = await readRedisAcl(deps, uid);
    if (isPredefinedRedisAcl(uid)) throw new ApiError('invalid_param', `The predefined Redis ACL '${existing.name}' cannot be changed`);
    assertUidUnchanged(body.uid, uid);
    await assertMayChangeRedisAcl(deps, caller, uid);
    const next: RedisAclRecord = { uid, name: body.name ?? existing.name, acl: body.acl?.trim() ?? existing.acl };
    await checkRedisAcl(deps, next, existing.name);
    if (isDryRun(query)) return next;
    const event = entityChangeOp(deps.clock, caller, {
      type: 'redis_acl_updated',
      target_type: 'redis_acl',
      target_uid: uid,
      target_name: next.name,
      changed_fields: changedFields(existing, next),
    });
    const result = await updateEntity(deps.store, redisAclEntity, { uid, modRevision: modRevision ?? 0, previous: existing, next, alsoWrite: [event] });
    if (!result.succeeded) throw new ApiError('config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
    return next;
  },
});
