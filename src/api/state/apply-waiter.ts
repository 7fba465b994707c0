// Waits until every live node has applied a store revision (its applied record reaches it), or gives up
// after a bounded time and names the nodes that did not confirm (the API's 409 nodes_not_updated).
import type { ClusterStore } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import type { AppliedRecord } from '../../domain/node-status.js';

export type ApplyOutcome =
  | { ok: true }
  | { ok: false; pending: string[]; failed: Array<{ node_uid: string; error: string }> };

export async function waitForNodesToApply(store: ClusterStore, revision: number, timeoutMs: number): Promise<ApplyOutcome> {
  const check = async (): Promise<{ done: boolean; outcome: ApplyOutcome; revision: number }> => {
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

  let result = await check();
  if (result.done) return result.outcome;
  return new Promise<ApplyOutcome>((resolve) => {
    let settled = false;
    let checking = Promise.resolve();
    const finish = (outcome: ApplyOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void watchPromise.then((w) => w.close()).catch(() => undefined);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      void check().then((r) => finish(r.outcome), () => finish(result.outcome));
    }, timeoutMs);
    const recheck = (): void => {
      checking = checking.then(async () => {
        if (settled) return;
        result = await check();
        if (result.done) finish(result.outcome);
      }).catch(() => undefined);
    };
    const watchPromise = store.watchPrefix(keys.nodeAppliedPrefix, result.revision, recheck);
    // A change may have landed between the first check and the watch: look once more. If the watch cannot
    // be created (store unreachable), the check at the timeout still answers; never an unhandled rejection.
    void watchPromise.then(recheck, () => undefined);
  });
}
