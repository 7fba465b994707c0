// Waits until every live node has applied a store revision (its applied record reaches it), or gives up
// after a bounded time and names the nodes that did not confirm (the API's 409 nodes_not_updated).
import type { ClusterStore } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import type { AppliedRecord } from '../../domain/node-status.js';
import { waitForStore, type StoreObservation } from './wait-for-store.js';

export type ApplyOutcome =
  | { ok: true }
  | { ok: false; pending: string[]; failed: Array<{ node_uid: string; error: string }> };

export async function waitForNodesToApply(store: ClusterStore, revision: number, timeoutMs: number): Promise<ApplyOutcome> {
  const observe = async (): Promise<StoreObservation<ApplyOutcome>> => {
    const [nodes, applied] = await Promise.all([store.list(keys.nodePrefix), store.list(keys.nodeAppliedPrefix)]);
    const records = new Map(
      applied.kvs.map((kv) => [kv.key.slice(keys.nodeAppliedPrefix.length), JSON.parse(kv.value) as AppliedRecord]),
    );
    const pending: string[] = [];
    const failed: Array<{ node_uid: string; error: string }> = [];
    for (const kv of nodes.kvs) {
      const nodeId = kv.key.slice(keys.nodePrefix.length);
      const record = records.get(nodeId);
      if (record !== undefined && record.certificates_revision >= revision) continue;
      if (record?.error != null && (record.failed_revision ?? 0) >= revision) failed.push({ node_uid: nodeId, error: record.error });
      else pending.push(nodeId);
    }
    const done = pending.length === 0;
    return { done, revision: applied.revision, outcome: done && failed.length === 0 ? { ok: true } : { ok: false, pending, failed } };
  };
  return waitForStore(store, keys.nodeAppliedPrefix, observe, timeoutMs);
}
