// DELETE /v1/redis_acls/{uid} (digest §6.3): refused for predefined ACLs and for ACLs a database binds; a caller
// who could not bind the roles bound with it gets 403 first (grant-rules.ts).
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { deleteEntity } from '../../state/entity-writes.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { isPredefinedRedisAcl } from '../../../domain/redis-acls.js';
import { databasesUsingAcl, readRedisAcl, redisAclEntity } from './redis-acl-context.js';
import { assertMayChangeRedisAcl } from '../grants.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteRedisAcl = defineRoute({
  method: 'DELETE',
  url: '/v1/redis_acls/:uid',
  permission: 'delete_redis_acl',
  errors: ['not_found', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams },
  handler: async ({ deps, params, caller }) => {
    const uid = parseUidParam(params.uid);
    const { record, modRevision } = await readRedisAcl(deps, uid);
    if (isPredefinedRedisAcl(uid)) throw new ApiError('invalid_param', `The predefined Redis ACL '${record.name}' cannot be deleted`);
    await assertMayChangeRedisAcl(deps, caller, uid);
    const users = await databasesUsingAcl(deps, uid);
    if (users.length > 0) throw new ApiError('invalid_param', `Redis ACL ${uid} is bound in roles_permissions of database ${users.join(', ')}`);
    const event = entityChangeOp(deps.clock, caller, { type: 'redis_acl_deleted', target_type: 'redis_acl', target_uid: uid, target_name: record.name });
    const result = await deleteEntity(deps.store, redisAclEntity, uid, record, modRevision ?? 0, [event]);
    if (!result.succeeded) throw new ApiError('config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
    return {};
  },
});
