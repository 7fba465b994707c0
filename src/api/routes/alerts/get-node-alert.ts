// GET /v1/nodes/alerts/{uid}/{alert} (view_node_alerts): one alert of one node; 404 not_found otherwise.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as alerts from '../../services/alerts.js';
import { AlertName, AlertQuery, NodeUid } from './alert-schemas.js';

export const getNodeAlert = defineRoute({
  method: 'GET',
  url: '/v1/nodes/alerts/:uid/:alert',
  permission: 'view_node_alerts',
  errors: ['not_found'],
  schema: { params: Type.Object({ uid: NodeUid, alert: AlertName }), querystring: AlertQuery },
  handler: async ({ deps, params, query }) => alerts.nodeAlert(deps, Number(params.uid), params.alert, alerts.isIgnoreSettings(query)),
});
