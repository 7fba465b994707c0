// Users (digest §6.1): the rule context (roles, password policy, clock), the wire form of a user, the grant rules
// (grant-rules.ts: nobody creates, changes or deletes a user with more management rights than their own or gives
// more than their own; only admins set another user's credentials; changing your own password needs the current
// one), the last-admin guard, and every write with its user_* event in the same transaction. The records and
// their unique index keys live in state/users-repository.ts, which authentication shares.
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { getJson, listJson, type Compare, type TxnOp } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { ApiError } from '../../lib/api-error.js';
import type { Clock } from '../../lib/clock.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import type { RoleDefinition, RoleName } from '../../domain/rbac.js';
import { checkSelfService, decideGrant, highestManagement, type GrantTargetUser } from '../../domain/grant-rules.js';
import {
  applyUserUpdate,
  completeUserRecord,
  toUserResponse,
  validateNewUser,
  type RoleRef,
  type UserInput,
  type UserRecord,
  type UserResponse,
  type UserRulesContext,
  type UserRuleResult,
  type UserRuleSuccess,
} from '../../domain/users.js';
import { verifyPassword } from '../../domain/passwords.js';
import { assertUidUnchanged } from '../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../state/entity-events.js';
import { assertGranted, grantActor } from './grants.js';

export async function listUsers(deps: ApiDeps): Promise<UserResponse[]> {
  return Promise.all((await deps.users.list()).map((user) => userResponse(deps, user)));
}

/** GET /v1/users/{uid} (the route checked that the caller may see it). */
export async function getUser(deps: ApiDeps, uid: number): Promise<UserResponse> {
  const user = await deps.users.get(uid);
  if (user === undefined) throw new ApiError('not_found', `User ${uid} does not exist`);
  return userResponse(deps, user);
}

/** POST /v1/users: 200 with the created user; `dryRun` validates only. */
export async function createUser(deps: ApiDeps, caller: Caller, body: UserInput & { uid?: number | undefined }, dryRun: boolean): Promise<UserResponse> {
  const ctx = await userRulesContext(deps);
  const accepted = unwrapRule(validateNewUser(body, { ...ctx, uid: body.uid ?? 0 }));
  assertGranted(decideGrant(grantActor(caller), { op: 'create_user', grants: managementsOf(accepted.record, ctx.roles) }));
  if (dryRun) {
    if (accepted.record.email !== '' && (await deps.users.findByEmail(accepted.record.email)) !== undefined) {
      throw new ApiError('email_already_exists', 'A user with this email already exists');
    }
    return userResponse(deps, accepted.record, ctx.cluster);
  }
  const { uid: _placeholder, ...record } = await completeUserRecord(accepted);
  const created = await deps.users.create(body.uid === undefined ? record : { ...record, uid: body.uid }, (user) => [
    entityChangeOp(deps.clock, caller, { type: 'user_created', target_type: 'user', target_uid: user.uid, target_name: user.name }),
  ]);
  return userResponse(deps, created, ctx.cluster);
}

/**
 * PUT /v1/users/{uid}: update_user, or any user on their own name, password and alert settings. Setting a new
 * password also releases a lockout (the RS way to unlock an account). Every field of the body counts (read-only
 * ones too) for the self-service check.
 */
export async function updateUser(
  deps: ApiDeps,
  caller: Caller,
  uid: number,
  body: UserInput & { uid?: number | undefined; old_password?: string | undefined },
  dryRun: boolean,
): Promise<UserResponse> {
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
  if (dryRun) return userResponse(deps, accepted.record, ctx.cluster);
  const next = accepted.passwordToHash === undefined ? accepted.record : await completeUserRecord(accepted);
  await deps.users.update(read, next, userUpdateEvents(deps.clock, caller, existing, next), adminGuards);
  if (accepted.passwordToHash !== undefined) {
    await deps.store.txn({ success: [{ type: 'delete', key: keys.loginFailures(uid) }] });
  }
  return userResponse(deps, next, ctx.cluster);
}

/** DELETE /v1/users/{uid}: the last admin cannot be deleted. */
export async function deleteUser(deps: ApiDeps, caller: Caller, uid: number): Promise<void> {
  // The delete compares this read's revision and the remaining admins': a user promoted meanwhile is not deleted.
  const read = await deps.users.getWithRevision(uid);
  if (read === undefined) throw new ApiError('not_found', `User ${uid} does not exist`);
  const user = read.record;
  const { roles } = await userRulesContext(deps);
  assertGranted(decideGrant(grantActor(caller), { op: 'delete_user', target: grantTarget(user, roles) }));
  const adminGuards = await assertAdminRemains(deps, user, undefined);
  const event = entityChangeOp(deps.clock, caller, { type: 'user_deleted', target_type: 'user', target_uid: user.uid, target_name: user.name });
  await deps.users.delete(read, [event], adminGuards);
}

/**
 * PUT/POST /v1/users/password: the caller's own password (old_password required), or, for admins, another
 * user's (`username`). Recorded as user_password_changed; releases a lockout.
 */
export async function changePassword(deps: ApiDeps, caller: Caller, body: { username?: string | undefined; old_password?: string | undefined; new_password: string }): Promise<void> {
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
}

/**
 * POST /v1/users/authorize: a token for the user who proved who they are, with body credentials (checked here,
 * as a login) or as the request's own authentication (`uid`, already authenticated by the route).
 */
export async function issueToken(
  deps: ApiDeps,
  who: { username: string; password: string; cluster: ClusterDocument } | { uid: number },
  ttlSeconds: number,
): Promise<{ access_token: string }> {
  let user: UserRecord | undefined;
  if ('uid' in who) {
    user = await deps.users.get(who.uid);
    if (user === undefined) throw new ApiError('unauthenticated', 'The user no longer exists');
  } else {
    user = await deps.passwords.authenticate(who.username, who.password, { allowExpired: false, cluster: who.cluster });
  }
  return { access_token: deps.tokens.issue(user, ttlSeconds) };
}

/** POST /v1/users/refresh_jwt: a new token that keeps the session's auth_time (the route checked it is a token). */
export async function refreshToken(deps: ApiDeps, uid: number, authTime: number, ttlSeconds: number): Promise<{ access_token: string }> {
  const user = await deps.users.get(uid);
  if (user === undefined) throw new ApiError('invalid_token', 'The token’s user no longer exists');
  deps.tokens.assertRefreshable(authTime);
  return { access_token: deps.tokens.issue(user, ttlSeconds, authTime) };
}

async function userRulesContext(deps: ApiDeps): Promise<UserRulesContext & { cluster: ClusterDocument | undefined }> {
  const [roles, cluster] = await Promise.all([listJson<RoleDefinition>(deps.store, keys.rolePrefix), getJson<ClusterDocument>(deps.store, keys.cluster)]);
  return {
    now: deps.clock.now(),
    roles,
    policy: { password_complexity: cluster?.password_complexity ?? false, password_min_length: cluster?.password_min_length },
    cluster,
  };
}

async function userResponse(deps: ApiDeps, record: UserRecord, cluster?: ClusterDocument): Promise<UserResponse> {
  const settings = cluster ?? (await getJson<ClusterDocument>(deps.store, keys.cluster));
  return toUserResponse(record, {
    now: deps.clock.now(),
    passwordExpirationDays: settings?.password_expiration_duration ?? 0,
    locked: await deps.passwords.isLocked(record.uid),
  });
}

function unwrapRule(result: UserRuleResult): UserRuleSuccess {
  if (!result.ok) throw new ApiError(result.error_code, result.description);
  return result;
}

/**
 * At least one admin must remain (digest §6.1 change_last_admin_role_not_allowed). Returns the compares the
 * write must carry: every remaining admin unchanged, so two admins removing each other at once cannot both win.
 */
async function assertAdminRemains(deps: ApiDeps, changing: UserRecord, next: UserRecord | undefined): Promise<Compare[]> {
  if (changing.role !== 'admin' || next?.role === 'admin') return [];
  const admins = (await deps.users.listWithRevisions()).filter((u) => u.record.role === 'admin' && u.record.uid !== changing.uid);
  if (admins.length === 0) {
    throw new ApiError('change_last_admin_role_not_allowed', 'At least one admin user must remain');
  }
  return admins.map((u): Compare => ({ key: keys.user(u.record.uid), target: 'mod', op: '==', value: u.modRevision }));
}

/** Management of every role a user record holds (its role and each of its role_uids), for the grant rules. */
function managementsOf(record: Pick<UserRecord, 'role' | 'role_uids'>, roles: readonly RoleRef[]): RoleName[] {
  const byUid = record.role_uids.map((uid) => roles.find((r) => r.uid === uid)?.management).filter((m): m is RoleName => m !== undefined);
  return [record.role, ...byUid];
}

/** The user as the grant rules see it: uid and its highest management rights. */
function grantTarget(record: UserRecord, roles: readonly RoleRef[]): GrantTargetUser {
  return { uid: record.uid, rights: highestManagement(managementsOf(record, roles)) };
}

/** Changing your own password needs the current one, on every route (issue 17.1). The check is a counted
 *  password check (checkUserPassword): a wrong old_password counts toward the same lockout as a failed login,
 *  and a locked user cannot change the password with the old one (401 user_locked). An expired password may
 *  still be changed. */
async function assertOldPassword(deps: ApiDeps, user: UserRecord, oldPassword: string | undefined): Promise<void> {
  const verdict = oldPassword === undefined || user.password_hash === undefined ? 'wrong' : await deps.passwords.checkUserPassword(user.uid, oldPassword);
  if (verdict === 'locked') throw new ApiError('user_locked', 'The account is locked after too many failed logins');
  if (verdict !== 'ok' && verdict !== 'expired') {
    throw new ApiError('unauthenticated', 'old_password is missing or wrong: changing your own password needs the current one');
  }
}

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
