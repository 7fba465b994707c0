// POST /v1/nodes/{uid}/actions/remove (issue 10.4; RS has this action, asynchronous, migrating the node's shards):
// removes a member that is down (its lease lapsed) from the cluster, so it no longer counts when a change waits
// for every member. One transaction, guarded by compares: the node's liveness key is absent (a live node is
// refused with 409 node_alive, nothing changes) and its record is the one read. It deletes the node's record
// (GET /v1/nodes no longer lists it) and applied record, and leaves a tombstone (keys.removedNode) so the
// removed node, started again with its old data dir, refuses to start. Unknown uid: 404 not_found.
// certplane answers when the removal is done: 200 {action_uid, node_uid, status: "removed"}.
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import type { NodeInfoRecord, RemovedNodeRecord } from '../../../domain/nodes.js';
import { entityChangeOp } from '../../state/entity-events.js';

export const removeNode = defineRoute({
  method: 'POST',
  url: '/v1/nodes/:uid/actions/remove',
  permission: 'update_cluster',
  errors: ['not_found', 'node_alive', 'config_edit_conflict'],
  schema: { params: Type.Object({ uid: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }) }) },
  handler: async ({ deps, caller, params, request }) => {
    const nodeId = String(Number(params.uid));
    const info = await deps.store.get(keys.nodeInfo(nodeId));
    if (info === undefined) throw new ApiError('not_found', `Node ${nodeId} does not exist (never joined, or already removed)`);
    const record = JSON.parse(info.value) as NodeInfoRecord;
    const tombstone: RemovedNodeRecord = {
      uid: nodeId,
      name: record.name,
      addr: record.addr,
      removed_at: deps.clock.now().toISOString(),
      removed_by: caller.email,
    };
    const result = await deps.store.txn({
      compare: [
        { key: keys.node(nodeId), target: 'version', op: '==', value: 0 },
        { key: keys.nodeInfo(nodeId), target: 'mod', op: '==', value: info.modRevision },
      ],
      success: [
        { type: 'delete', key: keys.nodeInfo(nodeId) },
        { type: 'delete', key: keys.nodeApplied(nodeId) },
        { type: 'put', key: keys.removedNode(nodeId), value: JSON.stringify(tombstone) },
        entityChangeOp(deps.clock, caller, { type: 'node_removed', target_type: 'node', target_uid: Number(nodeId), target_name: record.name }),
      ],
    });
    if (!result.succeeded) {
      if ((await deps.store.get(keys.node(nodeId))) !== undefined) {
        throw new ApiError('node_alive', `Node ${nodeId} is alive (its lease is held): only a node that is down can be removed; stop it first`);
      }
      throw new ApiError('config_edit_conflict', `Node ${nodeId} changed while it was being removed; retry`);
    }
    request.log.info({ node: nodeId, removed_by: caller.email }, 'node removed from the cluster');
    return { action_uid: randomUUID(), node_uid: Number(nodeId), status: 'removed' };
  },
});
