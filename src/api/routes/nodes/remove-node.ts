// POST /v1/nodes/{uid}/actions/remove (issue 10.4; RS has this action, asynchronous, migrating the node's shards):
// removes a member that is down (its lease lapsed) from the cluster, so it no longer counts when a change waits
// for every member. One transaction, guarded by compares: the node's liveness key is absent (a live node is
// refused with 409 node_alive, nothing changes) and its record is the one read. It deletes the node's record
// (GET /v1/nodes no longer lists it) and applied record, and leaves a tombstone (keys.removedNode) so the
// removed node, started again with its old data dir, refuses to start. Unknown uid: 404 not_found.
// certplane answers when the removal is done: 200 {action_uid, node_uid, status: "removed"}.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as nodes from '../../services/nodes.js';

export const removeNode = defineRoute({
  method: 'POST',
  url: '/v1/nodes/:uid/actions/remove',
  permission: 'update_cluster',
  errors: ['not_found', 'node_alive', 'config_edit_conflict'],
  schema: { params: Type.Object({ uid: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }) }) },
  handler: async ({ deps, caller, params, request }) => {
    const nodeId = String(Number(params.uid));
    const removed = await nodes.removeNode(deps, caller, nodeId);
    request.log.info({ node: nodeId, removed_by: caller.email }, 'node removed from the cluster');
    return removed;
  },
});
