// POST /v1/redis_acls/validate (digest §6.3, permission create_redis_acl): checks a Redis ACL body without
// storing it; 200 `{}` when it would be accepted, else the error POST /v1/redis_acls would give.
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { checkAclRule, checkRedisAclName } from '../../../domain/redis-acls.js';
import { NewRedisAclBody } from './redis-acl-schemas.js';

export const validateRedisAcl = defineRoute({
  method: 'POST',
  url: '/v1/redis_acls/validate',
  permission: 'create_redis_acl',
  errors: ['missing_field', 'invalid_param'],
  schema: { body: NewRedisAclBody },
  handler: async ({ body }) => {
    if (body.acl === undefined) throw new ApiError('missing_field', 'A Redis ACL needs an acl rule string');
    if (body.name !== undefined) {
      const nameError = checkRedisAclName(body.name);
      if (nameError !== undefined) throw new ApiError('invalid_param', nameError);
    }
    const rule = checkAclRule(body.acl);
    if (!rule.ok) throw new ApiError('invalid_param', rule.description);
    return {};
  },
});
