// GET /v1/nodes/alerts (view_all_nodes_alerts): the node alerts of every node, by node uid.
import { defineRoute } from '../../route.js';
import * as alerts from '../../services/alerts.js';
import { AlertQuery } from './alert-schemas.js';

export const getNodesAlerts = defineRoute({
  method: 'GET',
  url: '/v1/nodes/alerts',
  permission: 'view_all_nodes_alerts',
  schema: { querystring: AlertQuery },
  handler: async ({ deps, query }) => alerts.allNodesAlerts(deps, alerts.isIgnoreSettings(query)),
});
