// PUT /v1/bdbs/{uid} (digest §7.1-7.2): a partial update validated as a whole; port and name stay unique.
// The owning node applies it (TLS changes affect new connections only); status is active-change-pending
// until then. `?dry_run` validates only. Newly binding a role in roles_permissions needs that role's
// management rights (grant-rules.ts); bdb_updated is logged with the names of the changed fields.
import { defineRoute, isDryRun } from '../../route.js';
import * as bdbs from '../../services/bdbs.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { BdbUpdateBody } from './bdb-schemas.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const updateBdb = defineRoute({
  method: 'PUT',
  url: '/v1/bdbs/:uid',
  permission: 'update_bdb',
  errors: ['not_found', 'name_already_exists', 'port_unavailable', 'duplicated_certs', 'invalid_sharding', 'invalid_replication', 'unknown_role', 'unknown_redis_acl', 'invalid_certificate', 'certificate_expired', 'certificate_not_trusted', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams, body: BdbUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, params, body, query }) => bdbs.updateBdb(deps, caller, parseUidParam(params.uid), body, isDryRun(query)),
});
