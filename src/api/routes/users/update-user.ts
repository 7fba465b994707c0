// PUT /v1/users/{uid} (digest §6.1): update_user, or any user on their own name, password and alert
// settings. Setting a new password also releases a lockout (the RS way to unlock an account).
// The grant rules (grant-rules.ts) apply: nobody changes a user with more management rights than their own
// or gives more than their own; only admins set another user's credentials; changing your own password needs
// `old_password` (a certplane field). The change is recorded in /v1/logs in the same transaction.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { checkSelfService, decideGrant } from '../../../domain/grant-rules.js';
import { applyUserUpdate, completeUserRecord, type UserRecord } from '../../../domain/users.js';
import type { TxnOp } from '../../../store/cluster-store.js';
import { keys } from '../../../store/keys.js';
import type { Clock } from '../../../lib/clock.js';
import type { Caller } from '../../auth/caller.js';
import { changedFields, entityChangeOp } from '../../state/entity-events.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertGranted, grantActor } from '../grants.js';
import { assertAdminRemains, assertOldPassword, grantTarget, managementsOf, unwrapRule, userResponse, userRulesContext } from './user-context.js';
import { UserUpdateBody } from './user-schemas.js';
import { assertUidUnchanged, parseUidParam, UidParams } from '../uid-param.js';

export const updateUser = defineRoute({
  method: 'PUT',
  url: '/v1/users/:uid',
  permission: 'authenticated',
  errors: ['not_found', 'unauthorized_action', 'user_locked', 'email_already_exists', 'subject_line_already_exists', 'invalid_subject_line', 'password_not_complex', 'missing_password', 'unknown_role', 'change_last_admin_role_not_allowed', 'config_edit_conflict'],
  schema: { params: UidParams, body: UserUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => {
    const uid = parseUidParam(params.uid);
    const fields = Object.keys(body);
    // Before the lookup: a caller without update_user learns nothing about other uids.
    assertGranted(checkSelfService(grantActor(caller), uid, fields));
    assertUidUnchanged(body.uid, uid);
    // The write compares this read's revision: what is decided on below is what gets replaced.
    const read = await deps.users.getWithRevision(uid);
    if (read === undefined) throw new ApiError('not_found', `User ${uid} does not exist`);
    const existing = read.record;
    const ctx = await userRulesContext(deps);
    const { old_password: oldPassword, ...patch } = body;
    const accepted = unwrapRule(applyUserUpdate(existing, patch, ctx));
    const { needsOldPassword } = assertGranted(
      decideGrant(grantActor(caller), {
        op: 'update_user',
        target: grantTarget(existing, ctx.roles),
        fields,
        grants: body.role !== undefined || body.role_uids !== undefined ? managementsOf(accepted.record, ctx.roles) : undefined,
        changesCredentials:
          body.password !== undefined ||
          accepted.record.auth_method !== existing.auth_method ||
          accepted.record.certificate_subject_line !== existing.certificate_subject_line,
      }),
    );
    if (needsOldPassword) await assertOldPassword(deps, existing, oldPassword);
    const adminGuards = await assertAdminRemains(deps, existing, accepted.record);
    if (isDryRun(query)) return userResponse(deps, accepted.record, ctx.cluster);
    const next = accepted.passwordToHash === undefined ? accepted.record : await completeUserRecord(accepted);
    await deps.users.update(read, next, userUpdateEvents(deps.clock, caller, existing, next), adminGuards);
    if (accepted.passwordToHash !== undefined) {
      await deps.store.txn({ success: [{ type: 'delete', key: keys.loginFailures(uid) }] });
    }
    return userResponse(deps, next, ctx.cluster);
  },
});

/** user_password_changed when the password changed, user_updated for any other field. */
function userUpdateEvents(clock: Clock, caller: Caller, previous: UserRecord, next: UserRecord): TxnOp[] {
  const fields = changedFields(previous, next);
  const target = { target_type: 'user' as const, target_uid: next.uid, target_name: next.name };
  const others = fields.filter((f) => f !== 'password');
  return [
    ...(fields.includes('password') ? [entityChangeOp(clock, caller, { type: 'user_password_changed', ...target })] : []),
    ...(others.length > 0 ? [entityChangeOp(clock, caller, { type: 'user_updated', ...target, changed_fields: others })] : []),
  ];
}
