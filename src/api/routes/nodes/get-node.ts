// GET /v1/nodes/{uid}: one node (404 not_found when no node has that uid).
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as nodes from '../../services/nodes.js';

export const getNode = defineRoute({
  method: 'GET',
  url: '/v1/nodes/:uid',
  permission: 'view_node_info',
  errors: ['not_found'],
  schema: { params: Type.Object({ uid: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }) }) },
  handler: async ({ deps, params }) => nodes.getNode(deps, Number(params.uid)),
});
