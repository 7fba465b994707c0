// GET /v1/cluster (digest §5.1-5.2): the cluster document, with the cipher defaults and the installed proxy and
// syncer certificates as read-only views.
import { defineRoute } from '../../route.js';
import * as clusterSettings from '../../services/cluster-settings.js';

export const getCluster = defineRoute({
  method: 'GET',
  url: '/v1/cluster',
  permission: 'view_cluster_info',
  schema: {},
  handler: async ({ deps }) => clusterSettings.getCluster(deps),
});
