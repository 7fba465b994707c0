// PUT/POST/DELETE /v1/users/password (digest §6.1): any authenticated user changes their own password
// (old_password required); only admins set another user's (unauthorized_action; grant-rules.ts). The change
// is recorded in /v1/logs (user_password_changed) in the same transaction.
// certplane keeps one password per user: PUT and POST both replace it, DELETE is refused (a user
// without a password could not log in) — see README "Differences from Redis Enterprise".
import { Type } from 'typebox';
import { defineRoute, type RouteContext } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { decideGrant } from '../../../domain/grant-rules.js';
import { applyUserUpdate, completeUserRecord } from '../../../domain/users.js';
import { verifyPassword } from '../../../domain/passwords.js';
import { keys } from '../../../store/keys.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { assertGranted, grantActor } from '../grants.js';
import { assertOldPassword, grantTarget, unwrapRule, userRulesContext } from './user-context.js';

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
  const read =
    body.username === undefined || body.username === caller.email ? await deps.users.getWithRevision(caller.uid) : await deps.users.findByEmailWithRevision(body.username);
  if (read === undefined) throw new ApiError('not_found', 'No such user');
  const target = read.record;
  const ctx = await userRulesContext(deps);
  const { needsOldPassword } = assertGranted(decideGrant(grantActor(caller), { op: 'set_password', target: grantTarget(target, ctx.roles) }));
  if (target.auth_method !== 'regular') throw new ApiError('invalid_schema', 'Certificate users have no password');
  if (needsOldPassword) await assertOldPassword(deps, target, body.old_password);
  if (target.password_hash !== undefined && (await verifyPassword(body.new_password, target.password_hash))) {
    throw new ApiError('new_password_same_as_current', 'The new password must differ from the current one');
  }
  const accepted = unwrapRule(applyUserUpdate(target, { password: body.new_password }, ctx));
  const event = entityChangeOp(deps.clock, caller, { type: 'user_password_changed', target_type: 'user', target_uid: target.uid, target_name: target.name });
  await deps.users.update(read, await completeUserRecord(accepted), [event]);
  await deps.store.txn({ success: [{ type: 'delete', key: keys.loginFailures(target.uid) }] });
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
