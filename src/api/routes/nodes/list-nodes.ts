// GET /v1/nodes: every node that joined the cluster, live (`active`) or not (`down`), ordered by uid.
import { defineRoute } from '../../route.js';
import * as nodes from '../../services/nodes.js';

export const listNodes = defineRoute({
  method: 'GET',
  url: '/v1/nodes',
  permission: 'view_all_nodes_info',
  schema: {},
  handler: async ({ deps }) => nodes.listNodes(deps),
});
