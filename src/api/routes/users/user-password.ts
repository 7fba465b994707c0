// PUT/POST/DELETE /v1/users/password (digest §6.1): any authenticated user changes their own password
// (old_password required); only admins set another user's (unauthorized_action; grant-rules.ts). The change
// is recorded in /v1/logs (user_password_changed) in the same transaction.
// certplane keeps one password per user: PUT and POST both replace it, DELETE is refused (a user
// without a password could not log in) — see README "Differences from Redis Enterprise".
import { Type } from 'typebox';
import { defineRoute, type RouteContext } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import * as users from '../../services/users.js';

const PasswordChange = Type.Object(
  {
    username: Type.Optional(Type.String({ maxLength: 320 })),
    old_password: Type.Optional(Type.String({ maxLength: 1024 })),
    new_password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

type PasswordSchema = { body: typeof PasswordChange };

async function changePassword({ deps, body, caller }: RouteContext<PasswordSchema>): Promise<unknown> {
  await users.changePassword(deps, caller, body);
  return {};
}

export const putUserPassword = defineRoute({
  method: 'PUT',
  url: '/v1/users/password',
  permission: 'authenticated',
  errors: ['not_found', 'unauthorized_action', 'user_locked', 'new_password_same_as_current', 'password_not_complex'],
  schema: { body: PasswordChange },
  handler: changePassword,
});

export const postUserPassword = defineRoute({
  method: 'POST',
  url: '/v1/users/password',
  permission: 'authenticated',
  errors: ['not_found', 'unauthorized_action', 'user_locked', 'new_password_same_as_current', 'password_not_complex'],
  schema: { body: PasswordChange },
  handler: changePassword,
});

export const deleteUserPassword = defineRoute({
  method: 'DELETE',
  url: '/v1/users/password',
  permission: 'authenticated',
  schema: {},
  handler: async () => {
    throw new ApiError('invalid_schema', 'certplane keeps exactly one password per user; replace it with PUT /v1/users/password');
  },
});
