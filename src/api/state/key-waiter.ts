// Waits, for a bounded time, until one key of the store holds a value the caller accepts (the database actions
// wait for the owning node's answer this way, as apply-waiter.ts does for certificates). Resolves with what
// accept returned, or undefined at the timeout; never rejects for a watch that cannot be created.
import type { ClusterStore } from '../../store/cluster-store.js';

export async function waitForKey<T, R>(store: ClusterStore, key: string, accept: (value: T | undefined) => R | undefined, timeoutMs: number): Promise<R | undefined> {
  const check = async (): Promise<{ outcome: R | undefined; revision: number }> => {
    // list() rather than get(): it also tells the store revision to watch from. The key is a whole name, so the
    // prefix match sees only it (keys with a padded uid never prefix one another).
    const { kvs, revision } = await store.list(key);
    const kv = kvs.find((k) => k.key === key);
    return { outcome: accept(kv === undefined ? undefined : (JSON.parse(kv.value) as T)), revision };
  };

  const first = await check();
  if (first.outcome !== undefined) return first.outcome;
  return new Promise<R | undefined>((resolve) => {
    let settled = false;
    let checking = Promise.resolve();
    const finish = (outcome: R | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void watchPromise.then((w) => w.close()).catch(() => undefined);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      void check().then((r) => finish(r.outcome), () => finish(undefined));
    }, timeoutMs);
    const recheck = (): void => {
      checking = checking
        .then(async () => {
          if (settled) return;
          const result = await check();
          if (result.outcome !== undefined) finish(result.outcome);
        })
        .catch(() => undefined);
    };
    const watchPromise = store.watchPrefix(key, first.revision, recheck);
    // A change may have landed between the first check and the watch.
    void watchPromise.then(recheck, () => undefined);
  });
}
