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
  schema: { params: UidParams, body: BdbUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, params, body, query }) => bdbs.updateBdb(deps, caller, parseUidParam(params.uid), body, isDryRun(query)),
});
