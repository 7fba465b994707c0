// POST /v1/users/refresh_jwt (digest §1.2): a new token for the holder of a valid one (same checks as any
// Bearer request: not expired, user present, unlocked, same password). Optional `{ttl}` as in authorize.
// The new token keeps the session's auth_time, so refreshing never extends a session past its maximum age.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { JWT_DEFAULT_TTL_SECONDS } from '../../../domain/jwt.js';
import * as users from '../../services/users.js';
import { Ttl } from './authorize-user.js';

export const refreshJwt = defineRoute({
  method: 'POST',
  url: '/v1/users/refresh_jwt',
  permission: 'authenticated',
  errors: ['invalid_token'],
  schema: { body: Type.Union([Type.Object({ ttl: Type.Optional(Ttl) }, { additionalProperties: false }), Type.Null()]) },
  handler: async ({ deps, body, caller }) => {
    if (caller.via !== 'jwt' || caller.auth_time === undefined) throw new ApiError('invalid_token', 'refresh_jwt takes a valid token: send it as Authorization: Bearer <token>');
    return users.refreshToken(deps, caller.uid, caller.auth_time, body?.ttl ?? JWT_DEFAULT_TTL_SECONDS);
  },
});
