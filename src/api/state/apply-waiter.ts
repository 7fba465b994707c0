// Waits until every member of the cluster has applied a store revision (its applied record reaches it), and
// answers as soon as the outcome is known: all applied, or nothing left to wait for because every member that
// has not applied is down (lease lapsed) or failed. A member that is down has not applied the change
// (memberApplyState, the one definition of "applied"): it is named at once, never excused. Gives up after a
// bounded time and names every member that did not apply (the API's 409 nodes_not_updated). The rule the API
// answers by, built on this wait, is the apply contract (apply-contract.ts).
import type { ClusterStore } from '../../store/cluster-store.js';
import { memberApplyState } from '../../domain/node-status.js';
import { waitForStore, type StoreObservation } from './wait-for-store.js';
import { MEMBER_PREFIXES, readMembers } from './cluster-members.js';

export type ApplyOutcome =
  | { ok: true }
  | { ok: false; pending: string[]; failed: Array<{ node_uid: string; error: string }>; down: string[] };

export async function waitForNodesToApply(store: ClusterStore, revision: number, timeoutMs: number): Promise<ApplyOutcome> {
  const observe = async (): Promise<StoreObservation<ApplyOutcome>> => {
    const { members, revision: readAt } = await readMembers(store);
    const pending: string[] = [];
    const down: string[] = [];
    const failed: Array<{ node_uid: string; error: string }> = [];
    for (const member of members) {
      const record = member.applied;
      const state = memberApplyState(
        { live: member.live, appliedRevision: record?.certificates_revision, failedRevision: record?.failed_revision ?? null, error: record?.error ?? null },
        revision,
      );
      if (state === 'pending') pending.push(member.uid);
      else if (state === 'down') down.push(member.uid);
      else if (state === 'failed') failed.push({ node_uid: member.uid, error: record?.error ?? 'unknown error' });
    }
    const done = pending.length === 0;
    const ok = done && down.length === 0 && failed.length === 0;
    return { done, revision: readAt, outcome: ok ? { ok: true } : { ok: false, pending, failed, down } };
  };
  return waitForStore(store, MEMBER_PREFIXES, observe, timeoutMs);
}
