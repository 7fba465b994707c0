// The cluster's nodes: the node object of GET /v1/nodes and /v1/nodes/{uid}, shaped like Redis Enterprise's
// (fixtures nodes_list.json) for the fields that exist here, plus what certplane adds: which certificate revision
// the node has applied and whether it leads cluster-wide background work, built from three store prefixes read
// together; and the removal of a member that is down (POST /v1/nodes/{uid}/actions/remove).
import { randomUUID } from 'node:crypto';
import type { ClusterStore } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { ApiError } from '../../lib/api-error.js';
import type { AppliedRecord } from '../../domain/node-status.js';
import { rsSoftwareVersion, type NodeInfoRecord, type NodeLiveRecord, type RemovedNodeRecord } from '../../domain/nodes.js';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { entityChangeOp } from '../state/entity-events.js';

export interface NodeView {
  uid: number;
  addr: string;
  external_addr: string[];
  /** `active` while the node keeps its lease alive, `down` once the lease has expired (RS: active | down). */
  status: 'active' | 'down';
  accept_servers: boolean;
  rack_id: string;
  second_rack_id: string;
  architecture: string;
  os_version: string;
  cores: number;
  total_memory: number;
  /** The reference's form, `8.2.0-100` (src/domain/nodes.ts rsSoftwareVersion). */
  software_version: string;
  /** Seconds since this node process started; 0 while down. */
  uptime: number;
  // certplane extensions
  node_name: string;
  certplane_version: string;
  cnm_https_port: number;
  /** Store revision of the certificates this node serves (files written, listeners reloaded). */
  certificates_revision: number;
  certificates_applied_at: string;
  /** The last failed apply on this node, if the last attempt failed. */
  certificates_error: string | null;
  /** True on the one node chosen (etcd election) to run cluster-wide background work. */
  is_leader: boolean;
}

/** GET /v1/nodes: every node that joined the cluster, live (`active`) or not (`down`), ordered by uid. */
export function listNodes(deps: ApiDeps): Promise<NodeView[]> {
  return readNodeViews(deps.store, deps.clock.now());
}

/** GET /v1/nodes/{uid}: 404 not_found when no node has that uid. */
export async function getNode(deps: ApiDeps, uid: number): Promise<NodeView> {
  const node = (await readNodeViews(deps.store, deps.clock.now())).find((n) => n.uid === uid);
  if (node === undefined) throw new ApiError('not_found', `Node ${uid} does not exist`);
  return node;
}

/**
 * POST /v1/nodes/{uid}/actions/remove (issue 10.4): removes a member that is down (its lease lapsed) from the
 * cluster, so it no longer counts when a change waits for every member. One transaction, guarded by compares:
 * the node's liveness key is absent (a live node is refused with 409 node_alive, nothing changes) and its record
 * is the one read. It deletes the node's record and applied record, and leaves a tombstone (keys.removedNode) so
 * the removed node, started again with its old data dir, refuses to start. Unknown uid: 404 not_found.
 */
export async function removeNode(deps: ApiDeps, caller: Caller, nodeId: string): Promise<{ action_uid: string; node_uid: number; status: 'removed' }> {
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
  return { action_uid: randomUUID(), node_uid: Number(nodeId), status: 'removed' };
}

async function readNodeViews(store: ClusterStore, now: Date): Promise<NodeView[]> {
  const [infos, lives, applied, leader] = await Promise.all([
    store.list(keys.nodeInfoPrefix),
    store.list(keys.nodePrefix),
    store.list(keys.nodeAppliedPrefix),
    store.get(keys.leader('cluster')),
  ]);
  const byId = <T>(prefix: string, kvs: Array<{ key: string; value: string }>): Map<string, T> =>
    new Map(kvs.map((kv) => [kv.key.slice(prefix.length), JSON.parse(kv.value) as T]));
  const live = byId<NodeLiveRecord>(keys.nodePrefix, lives.kvs);
  const appliedRecords = byId<AppliedRecord>(keys.nodeAppliedPrefix, applied.kvs);
  const views: NodeView[] = [];
  for (const [nodeId, info] of byId<NodeInfoRecord>(keys.nodeInfoPrefix, infos.kvs)) {
    const liveRecord = live.get(nodeId);
    const record = appliedRecords.get(nodeId);
    views.push({
      uid: Number(nodeId),
      addr: info.addr,
      external_addr: [],
      status: liveRecord === undefined ? 'down' : 'active',
      accept_servers: true,
      rack_id: '',
      second_rack_id: '',
      architecture: info.architecture,
      os_version: info.os_version,
      cores: info.cores,
      total_memory: info.total_memory,
      // A record written by an older certplane (not yet restarted) holds the bare package version.
      software_version: /^\d+\.\d+\.\d+-\d+$/.test(info.software_version) ? info.software_version : rsSoftwareVersion(info.software_version),
      uptime: liveRecord === undefined ? 0 : Math.max(0, Math.floor((now.getTime() - Date.parse(liveRecord.started_at)) / 1000)),
      node_name: info.name,
      certplane_version: info.certplane_version ?? info.software_version,
      cnm_https_port: info.cnm_https_port,
      certificates_revision: record?.certificates_revision ?? 0,
      certificates_applied_at: record?.applied_at ?? '',
      certificates_error: record?.error ?? null,
      is_leader: liveRecord !== undefined && leader?.value === nodeId,
    });
  }
  return views.sort((a, b) => a.uid - b.uid);
}
