// PUT /v1/users/{uid} (digest §6.1): update_user, or any user on their own name, password and alert
// settings. Setting a new password also releases a lockout (the RS way to unlock an account).
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { hasPermission } from '../../../domain/rbac.js';
import { applyUserUpdate, completeUserRecord } from '../../../domain/users.js';
import { keys } from '../../../store/keys.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertAdminRemains, unwrapRule, userResponse, userRulesContext } from './user-context.js';
import { UserUpdateBody } from './user-schemas.js';
import { assertUidUnchanged, parseUidParam, UidParams } from '../uid-param.js';

const SELF_SERVICE_FIELDS = new Set(['name', 'password', 'email_alerts', 'bdbs_email_alerts', 'cluster_email_alerts', 'uid', 'status', 'password_issue_date', 'last_login', 'action_uid']);

export const updateUser = defineRoute({
  method: 'PUT',
  url: '/v1/users/:uid',
  permission: 'authenticated',
  schema: { params: UidParams, body: UserUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => {
    const uid = parseUidParam(params.uid);
    if (!hasPermission(caller.role, 'update_user')) {
      const foreign = Object.keys(body).filter((field) => !SELF_SERVICE_FIELDS.has(field));
      if (uid !== caller.uid || foreign.length > 0) {
        throw new ApiError(403, 'insufficient_permissions', "This action requires the 'update_user' permission");
      }
    }
    assertUidUnchanged(body.uid, uid);
    const existing = await deps.users.get(uid);
    if (existing === undefined) throw new ApiError(404, 'not_found', `User ${uid} does not exist`);
    const ctx = await userRulesContext(deps);
    const accepted = unwrapRule(applyUserUpdate(existing, body, ctx));
    await assertAdminRemains(deps, existing, accepted.record);
    if (isDryRun(query)) return userResponse(deps, accepted.record, ctx.cluster);
    const next = accepted.passwordToHash === undefined ? accepted.record : await completeUserRecord(accepted);
    await deps.users.update(existing, next);
    if (accepted.passwordToHash !== undefined) {
      await deps.store.txn({ success: [{ type: 'delete', key: keys.loginFailures(uid) }] });
    }
    return userResponse(deps, next, ctx.cluster);
  },
});
