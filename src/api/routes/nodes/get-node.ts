// GET /v1/nodes/{uid}: one node (404 not_found when no node has that uid).
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { readNodeViews } from './node-view.js';

export const getNode = defineRoute({
  method: 'GET',
  url: '/v1/nodes/:uid',
  permission: 'view_node_info',
  errors: ['not_found'],
  schema: { params: Type.Object({ uid: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }) }) },
  handler: async ({ deps, params }) => {
    const uid = Number(params.uid);
    const node = (await readNodeViews(deps.store, deps.clock.now())).find((n) => n.uid === uid);
    if (node === undefined) throw new ApiError('not_found', `Node ${uid} does not exist`);
    return node;
  },
});
