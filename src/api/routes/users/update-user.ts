// PUT /v1/users/{uid} (digest §6.1): update_user, or any user on their own name, password and alert
// settings. Setting a new password also releases a lockout (the RS way to unlock an account).
// The grant rules (grant-rules.ts) apply: nobody changes a user with more management rights than their own
// or gives more than their own; only admins set another user's credentials; changing your own password needs
// `old_password` (a certplane field). The change is recorded in /v1/logs in the same transaction.
import { defineRoute, isDryRun } from '../../route.js';
import * as users from '../../services/users.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { UserUpdateBody } from './user-schemas.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const updateUser = defineRoute({
  method: 'PUT',
  url: '/v1/users/:uid',
  permission: 'authenticated',
  errors: ['not_found', 'unauthorized_action', 'user_locked', 'email_already_exists', 'subject_line_already_exists', 'invalid_subject_line', 'password_not_complex', 'missing_password', 'unknown_role', 'change_last_admin_role_not_allowed', 'config_edit_conflict'],
  schema: { params: UidParams, body: UserUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, params, body, query, caller }) => users.updateUser(deps, caller, parseUidParam(params.uid), body, isDryRun(query)),
});
