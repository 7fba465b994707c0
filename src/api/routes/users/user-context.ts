// What the user routes share: the rule context (roles, password policy, clock), the wire form of a user,
// and the last-admin guard.
import type { ApiDeps } from '../../api-deps.js';
import { getJson, listJson } from '../../../store/cluster-store.js';
import { keys } from '../../../store/keys.js';
import { ApiError } from '../../../lib/api-error.js';
import type { ClusterDocument } from '../../../domain/cluster-settings.js';
import type { RoleDefinition } from '../../../domain/rbac.js';
import { toUserResponse, type UserRecord, type UserResponse, type UserRulesContext, type UserRuleResult, type UserRuleSuccess } from '../../../domain/users.js';

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
  if (!result.ok) throw new ApiError(result.status, result.error_code, result.description);
  return result;
}

/** At least one admin must remain (digest §6.1 change_last_admin_role_not_allowed). */
export async function assertAdminRemains(deps: ApiDeps, changing: UserRecord, next: UserRecord | undefined): Promise<void> {
  if (changing.role !== 'admin' || next?.role === 'admin') return;
  const admins = (await deps.users.list()).filter((u) => u.role === 'admin' && u.uid !== changing.uid);
  if (admins.length === 0) {
    throw new ApiError(406, 'change_last_admin_role_not_allowed', 'At least one admin user must remain');
  }
}
