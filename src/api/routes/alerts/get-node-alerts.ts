// GET /v1/nodes/alerts/{uid} (RS's path) and GET /v1/nodes/{uid}/alerts (the same, in the form of the other node
// endpoints) (view_node_alerts): the alerts of one node; 404 not_found for an unknown node.
import { defineRoute } from '../../route.js';
import * as alerts from '../../services/alerts.js';
import { AlertQuery, NodeUid } from './alert-schemas.js';
import { Type } from 'typebox';

const schema = { params: Type.Object({ uid: NodeUid }), querystring: AlertQuery };

export const getNodeAlerts = defineRoute({
  method: 'GET',
  url: '/v1/nodes/alerts/:uid',
  permission: 'view_node_alerts',
  errors: ['not_found'],
  schema,
  handler: async ({ deps, params, query }) => alerts.nodeAlerts(deps, Number(params.uid), alerts.isIgnoreSettings(query)),
});

export const getNodeAlertsByNode = defineRoute({
  method: 'GET',
  url: '/v1/nodes/:uid/alerts',
  permission: 'view_node_alerts',
  errors: ['not_found'],
  schema,
  handler: async ({ deps, params, query }) => alerts.nodeAlerts(deps, Number(params.uid), alerts.isIgnoreSettings(query)),
});
