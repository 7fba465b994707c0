// GET /v1/cluster/policy (digest §5.3): the login lockout policy.
import { defineRoute } from '../../route.js';
import * as clusterSettings from '../../services/cluster-settings.js';

export const getPolicy = defineRoute({
  method: 'GET',
  url: '/v1/cluster/policy',
  permission: 'view_cluster_info',
  schema: {},
  handler: async ({ deps }) => clusterSettings.getPolicy(deps),
});
