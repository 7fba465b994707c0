// Waits, for a bounded time, until one key of the store holds a value the caller accepts (the database actions
// wait for the owning node's answer this way, as apply-waiter.ts does for certificates). Resolves with what
// accept returned, or undefined at the timeout; never rejects for a watch that cannot be created.
import type { ClusterStore } from '../../store/cluster-store.js';
import { waitForStore, type StoreObservation } from './wait-for-store.js';

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
