// POST /v1/users/authorize (digest §1.2): a JSON Web Token for a user. The user proves who they are with
// `{username, password}` in the body (RS 7.4's jwt_authorize object), or as on any route: Basic credentials, a
// client certificate (certificate login), or a valid token. `ttl` 1-86400 seconds, default 300. Public at the
// routing level because body credentials can only be read after the body is parsed; the handler authenticates.
import { Type } from 'typebox';
import type { TLSSocket } from 'node:tls';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { authenticateRequest } from '../../auth/authenticate-request.js';
import { JWT_DEFAULT_TTL_SECONDS, JWT_MAX_TTL_SECONDS } from '../../../domain/jwt.js';
import * as users from '../../services/users.js';

export const Ttl = Type.Integer({ minimum: 1, maximum: JWT_MAX_TTL_SECONDS });

const AuthorizeBody = Type.Union([
  Type.Object(
    {
      username: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
      password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
      ttl: Type.Optional(Ttl),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const authorizeUser = defineRoute({
  method: 'POST',
  url: '/v1/users/authorize',
  permission: 'public',
  errors: ['unauthenticated', 'ambiguous_credentials', 'password_expired', 'user_locked', 'invalid_token', 'certificate_not_trusted', 'client_certificate_expired', 'client_certificate_not_yet_valid', 'certificate_not_authorized', 'unknown_certificate_user'],
  schema: { body: AuthorizeBody },
  handler: async ({ deps, body, request }) => {
    const ttl = body?.ttl ?? JWT_DEFAULT_TTL_SECONDS;
    if (body?.username !== undefined || body?.password !== undefined) {
      if (body.username === undefined || body.password === undefined) {
        throw new ApiError('invalid_schema', 'username and password go together');
      }
      const cluster = deps.settings.current();
      const peer = cluster.mtls_certificate_authentication ? deps.certificates.peerOf(request.raw.socket as TLSSocket) : null;
      if (request.headers.authorization !== undefined || peer !== null) {
        throw new ApiError('ambiguous_credentials', 'Send credentials either in the body or as the request’s own authentication, never both');
      }
      return users.issueToken(deps, { username: body.username, password: body.password, cluster }, ttl);
    }
    return users.issueToken(deps, { uid: (await authenticateRequest(request, deps)).uid }, ttl);
  },
});
