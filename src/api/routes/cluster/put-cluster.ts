// PUT /v1/cluster (digest §5.1, 5.2, 5.4): a partial update merged into the stored document, the full object returned,
// `?dry_run` validates only. Read-only fields are accepted only unchanged; a change that would leave no way to
// log in is 406 no_login_method; certificate authentication needs the mtls_trusted_ca certificate. Requests
// after the answer already authenticate under the new settings.
import { defineRoute, isDryRun } from '../../route.js';
import * as clusterSettings from '../../services/cluster-settings.js';
import { ClusterUpdate, DryRunQuery } from './cluster-schemas.js';

export const putCluster = defineRoute({
  method: 'PUT',
  url: '/v1/cluster',
  permission: 'update_cluster',
  errors: ['invalid_param', 'missing_trusted_ca', 'no_login_method', 'config_edit_conflict', 'nodes_not_updated'],
  schema: { body: ClusterUpdate, querystring: DryRunQuery },
  handler: async ({ deps, body, query, caller }) => clusterSettings.putCluster(deps, caller, body, isDryRun(query)),
});
