// PUT/POST/DELETE /v1/users/password (digest §6.1): any authenticated user changes their own password
// (old_password required); only holders of update_user may set another user's (unauthorized_action).
// certplane keeps one password per user: PUT and POST both replace it, DELETE is refused (a user
// without a password could not log in) — see README "Differences from Redis Enterprise".
import { Type } from 'typebox';
import { defineRoute, type RouteContext } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { hasPermission } from '../../../domain/rbac.js';
import { applyUserUpdate, completeUserRecord } from '../../../domain/users.js';
import { verifyPassword } from '../../../domain/passwords.js';
import { keys } from '../../../store/keys.js';
import { unwrapRule, userRulesContext } from './user-context.js';

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
  const target = body.username === undefined || body.username === caller.email ? await deps.users.get(caller.uid) : await deps.users.findByEmail(body.username);
  if (target === undefined) throw new ApiError(404, 'not_found', 'No such user');
  const own = target.uid === caller.uid;
  if (!own && !hasPermission(caller.role, 'update_user')) {
    throw new ApiError(403, 'unauthorized_action', 'Only an admin may change another user’s password');
  }
  if (target.auth_method !== 'regular') throw new ApiError(400, 'invalid_schema', 'Certificate users have no password');
  if (own) {
    if (body.old_password === undefined || target.password_hash === undefined || !(await verifyPassword(body.old_password, target.password_hash))) {
      throw new ApiError(401, 'unauthenticated', 'old_password is missing or wrong');
    }
  }
  if (target.password_hash !== undefined && (await verifyPassword(body.new_password, target.password_hash))) {
    throw new ApiError(400, 'new_password_same_as_current', 'The new password must differ from the current one');
  }
  const accepted = unwrapRule(applyUserUpdate(target, { password: body.new_password }, await userRulesContext(deps)));
  await deps.users.update(target, await completeUserRecord(accepted));
  await deps.store.txn({ success: [{ type: 'delete', key: keys.loginFailures(target.uid) }] });
  return {};
}

export const putUserPassword = defineRoute({
  method: 'PUT',
  url: '/v1/users/password',
  permission: 'authenticated',
  schema: { body: PasswordChange },
  handler: changePassword,
});

export const postUserPassword = defineRoute({
  method: 'POST',
  url: '/v1/users/password',
  permission: 'authenticated',
  schema: { body: PasswordChange },
  handler: changePassword,
});

export const deleteUserPassword = defineRoute({
  method: 'DELETE',
  url: '/v1/users/password',
  permission: 'authenticated',
  schema: {},
  handler: async () => {
    throw new ApiError(400, 'invalid_schema', 'certplane keeps exactly one password per user; replace it with PUT /v1/users/password');
  },
});
