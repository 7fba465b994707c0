// Waits, for a bounded time, until one key of the store holds a value the caller accepts (the database actions
// wait for the owning node's answer this way, as apply-waiter.ts does for certificates). Resolves with what
// accept returned, or undefined at the timeout; never rejects for a watch that cannot be created.
import type { ClusterStore } from '../../store/cluster-store.js';
import { waitForStore, type StoreObservation } from './wait-for-store.js';
import { keys } from '../../store/keys.js';
import { memberApplyState, type MemberApplyState, type MemberProgress } from '../../domain/node-status.js';

export async function waitForKey<T, R>(store: ClusterStore, key: string, accept: (value: T | undefined) => R | undefined, timeoutMs: number): Promise<R | undefined> {
  const observe = async (): Promise<StoreObservation<R | undefined>> => {
    // list() rather than get(): it also tells the store revision to watch from. The key is a whole name, so the
    // prefix match sees only it (keys with a padded uid never prefix one another).
    const { kvs, revision } = await store.list(key);
    const kv = kvs.find((k) => k.key === key);
    const outcome = accept(kv === undefined ? undefined : (JSON.parse(kv.value) as T));
    return { done: outcome !== undefined, outcome, revision };
  };
  return waitForStore(store, key, observe, timeoutMs);
}

/**
 * Waits until one member (the node that owns a database) has applied a change recorded under one key, judged by
 * memberApplyState like every other wait: progress() reads the key's value as that member's progress, and the
 * member's liveness comes from the store. Answers at once when the member is down (its lease lapsed: it has not
 * applied, and waiting longer cannot change that) or failed; 'pending' at the timeout.
 */
export async function waitForMemberKey<T>(
  store: ClusterStore,
  nodeId: string,
  key: string,
  progress: (value: T | undefined) => Omit<MemberProgress, 'live'>,
  revision: number,
  timeoutMs: number,
): Promise<{ state: MemberApplyState; value: T | undefined }> {
  const observe = async (): Promise<StoreObservation<{ state: MemberApplyState; value: T | undefined }>> => {
    const [{ kvs, revision: readAt }, live] = await Promise.all([store.list(key), store.get(keys.node(nodeId))]);
    const kv = kvs.find((k) => k.key === key);
    const value = kv === undefined ? undefined : (JSON.parse(kv.value) as T);
    const state = memberApplyState({ live: live !== undefined, ...progress(value) }, revision);
    return { done: state !== 'pending', outcome: { state, value }, revision: readAt };
  };
  return waitForStore(store, [key, keys.node(nodeId)], observe, timeoutMs);
}
