// POST /v1/users (digest §6.1): 200 with the created user; `?dry_run` validates only. Nobody creates a user
// with more management rights than their own (grant-rules.ts); the user_created event is written with it.
import { defineRoute, isDryRun } from '../../route.js';
import * as users from '../../services/users.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { NewUserBody } from './user-schemas.js';

export const createUser = defineRoute({
  method: 'POST',
  url: '/v1/users',
  permission: 'create_new_user',
  errors: ['email_already_exists', 'name_already_exists', 'subject_line_already_exists', 'uid_exists', 'invalid_subject_line', 'password_not_complex', 'missing_password', 'unknown_role', 'certificate_expired', 'certificate_not_yet_valid'],
  schema: { body: NewUserBody, querystring: DryRunQuery },
  handler: async ({ deps, body, query, caller }) => users.createUser(deps, caller, body, isDryRun(query)),
});
