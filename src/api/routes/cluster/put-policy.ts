// PUT /v1/cluster/policy (digest §5.3): a partial update merged into the stored policy, the full object
// returned, `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import * as clusterSettings from '../../services/cluster-settings.js';
import { DryRunQuery, PolicyUpdate } from './cluster-schemas.js';

export const putPolicy = defineRoute({
  method: 'PUT',
  url: '/v1/cluster/policy',
  permission: 'update_cluster',
  errors: ['config_edit_conflict'],
  schema: { body: PolicyUpdate, querystring: DryRunQuery },
  handler: async ({ deps, body, query, caller }) => clusterSettings.putPolicy(deps, caller, body, isDryRun(query)),
});
