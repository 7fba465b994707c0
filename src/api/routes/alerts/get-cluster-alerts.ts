// GET /v1/cluster/alerts (view_cluster_alerts): every cluster alert, raised or not; `?ignore_settings` shows the
// stored state of disabled alerts too.
import { defineRoute } from '../../route.js';
import * as alerts from '../../services/alerts.js';
import { AlertQuery } from './alert-schemas.js';

export const getClusterAlerts = defineRoute({
  method: 'GET',
  url: '/v1/cluster/alerts',
  permission: 'view_cluster_alerts',
  schema: { querystring: AlertQuery },
  handler: async ({ deps, query }) => alerts.clusterAlerts(deps, alerts.isIgnoreSettings(query)),
});
