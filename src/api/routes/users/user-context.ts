// What the user routes share: the rule context (roles, password policy, clock), the wire form of a user,
// and the last-admin guard.
import type { ApiDeps } from '../../api-deps.js';
import { getJson, listJson, type Compare } from '../../../store/cluster-store.js';
import { keys } from '../../../store/keys.js';
import { ApiError } from '../../../lib/api-error.js';
import type { ClusterDocument } from '../../../domain/cluster-settings.js';
import type { RoleDefinition, RoleName } from '../../../domain/rbac.js';
import { highestManagement, type GrantTargetUser } from '../../../domain/grant-rules.js';
import { toUserResponse, type RoleRef, type UserRecord, type UserResponse, type UserRulesContext, type UserRuleResult, type UserRuleSuccess } from '../../../domain/users.js';

export async function userRulesContext(deps: ApiDeps): Promise<UserRulesContext & { cluster: ClusterDocument | undefined }> {
  const [roles, cluster] = await Promise.all([listJson<RoleDefinition>(deps.store, keys.rolePrefix), getJson<ClusterDocument>(deps.store, keys.cluster)]);
  return {
    now: deps.clock.now(),
    roles,
    policy: { password_complexity: cluster?.password_complexity ?? false, password_min_length: cluster?.password_min_length },
    cluster,
  };
}

export async function userResponse(deps: ApiDeps, record: UserRecord, cluster?: ClusterDocument): Promise<UserResponse> {
  const settings = cluster ?? (await getJson<ClusterDocument>(deps.store, keys.cluster));
  return toUserResponse(record, {
    now: deps.clock.now(),
    passwordExpirationDays: settings?.password_expiration_duration ?? 0,
    locked: await deps.passwords.isLocked(record.uid),
  });
}

export function unwrapRule(result: UserRuleResult): UserRuleSuccess {
  if (!result.ok) throw new ApiError(result.error_code, result.description);
  return result;
}

/**
 * At least one admin must remain (digest §6.1 change_last_admin_role_not_allowed). Returns the compares the
 * write must carry: every remaining admin unchanged, so two admins removing each other at once cannot both win.
 */
export async function assertAdminRemains(deps: ApiDeps, changing: UserRecord, next: UserRecord | undefined): Promise<Compare[]> {
  if (changing.role !== 'admin' || next?.role === 'admin') return [];
  const admins = (await deps.users.listWithRevisions()).filter((u) => u.record.role === 'admin' && u.record.uid !== changing.uid);
  if (admins.length === 0) {
    throw new ApiError('change_last_admin_role_not_allowed', 'At least one admin user must remain');
  }
  return admins.map((u): Compare => ({ key: keys.user(u.record.uid), target: 'mod', op: '==', value: u.modRevision }));
}

/** Management of every role a user record holds (its role and each of its role_uids), for the grant rules. */
export function managementsOf(record: Pick<UserRecord, 'role' | 'role_uids'>, roles: readonly RoleRef[]): RoleName[] {
  const byUid = record.role_uids.map((uid) => roles.find((r) => r.uid === uid)?.management).filter((m): m is RoleName => m !== undefined);
  return [record.role, ...byUid];
}

/** The user as the grant rules see it: uid and its highest management rights. */
export function grantTarget(record: UserRecord, roles: readonly RoleRef[]): GrantTargetUser {
  return { uid: record.uid, rights: highestManagement(managementsOf(record, roles)) };
}

/** Changing your own password needs the current one, on every route (issue 17.1). The check is a counted
 *  password check (checkUserPassword): a wrong old_password counts toward the same lockout as a failed login,
 *  and a locked user cannot change the password with the old one (401 user_locked). An expired password may
 *  still be changed. */
export async function assertOldPassword(deps: ApiDeps, user: UserRecord, oldPassword: string | undefined): Promise<void> {
  const verdict = oldPassword === undefined || user.password_hash === undefined ? 'wrong' : await deps.passwords.checkUserPassword(user.uid, oldPassword);
  if (verdict === 'locked') throw new ApiError('user_locked', 'The account is locked after too many failed logins');
  if (verdict !== 'ok' && verdict !== 'expired') {
    throw new ApiError('unauthenticated', 'old_password is missing or wrong: changing your own password needs the current one');
  }
}
