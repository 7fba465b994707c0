// GET /v1/cluster/alerts/{alert} (view_cluster_alerts): one cluster alert; 404 not_found for another name.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as alerts from '../../services/alerts.js';
import { AlertName, AlertQuery } from './alert-schemas.js';

export const getClusterAlert = defineRoute({
  method: 'GET',
  url: '/v1/cluster/alerts/:alert',
  permission: 'view_cluster_alerts',
  errors: ['not_found'],
  schema: { params: Type.Object({ alert: AlertName }), querystring: AlertQuery },
  handler: async ({ deps, params, query }) => alerts.clusterAlert(deps, params.alert, alerts.isIgnoreSettings(query)),
});
