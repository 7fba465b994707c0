// Waits, for a bounded time, until an observation of the store says "done": observes once, then again on every
// change under the watched prefixes (watched from the revision of the first observation, so nothing in between is missed),
// and once more at the timeout. Resolves with the last observation's outcome; never rejects, also when the
// watch cannot be created (store unreachable): the observation at the timeout still answers.
import type { ClusterStore } from '../../store/cluster-store.js';

export interface StoreObservation<R> {
  done: boolean;
  outcome: R;
  /** The store revision the observation was read at. */
  revision: number;
}

export async function waitForStore<R>(
  store: ClusterStore,
  watchPrefixes: string | readonly string[],
  observe: () => Promise<StoreObservation<R>>,
  timeoutMs: number,
): Promise<R> {
  let last = await observe();
  if (last.done) return last.outcome;
  return new Promise<R>((resolve) => {
    let settled = false;
    let observing = Promise.resolve();
    const finish = (outcome: R): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const watchPromise of watchPromises) void watchPromise.then((w) => w.close()).catch(() => undefined);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      void observe().then(
        (o) => finish(o.outcome),
        () => finish(last.outcome),
      );
    }, timeoutMs);
    const reobserve = (): void => {
      observing = observing
        .then(async () => {
          if (settled) return;
          last = await observe();
          if (last.done) finish(last.outcome);
        })
        .catch(() => undefined);
    };
    // A watch that ends early (its history was compacted: WatchCompactedError) only means "look again".
    const prefixes = typeof watchPrefixes === 'string' ? [watchPrefixes] : watchPrefixes;
    const watchPromises = prefixes.map((prefix) => store.watchPrefix(prefix, last.revision, reobserve, reobserve));
    // A change may have landed between the first observation and the watch: look once more.
    for (const watchPromise of watchPromises) void watchPromise.then(reobserve, () => undefined);
  });
}
