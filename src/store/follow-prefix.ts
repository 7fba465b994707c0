// Follows a prefix for as long as the owner wants, across lost watch history (issue 10.6): a node that was
// stopped while etcd compacted past the revision it watched from re-reads the state it needs and resumes,
// instead of silently losing its watch and never converging.
//
// States and transitions:
//   watching --watch lost (WatchCompactedError or another cancel)--> resyncing
//   resyncing --resync() ok, watch created from its revision--> watching
//   resyncing --resync() or watch creation failed--> backoff --retryDelayMs--> resyncing
//   any --close()--> closed
// Resyncing is a pass of the loop engine (lib/loop.ts), so a watch lost again during a resync merges into one more.
// The first watch is created before followPrefix resolves; when its revision is already compacted it resyncs
// first (so a node started long after the last change to a key still follows it).
import { type ClusterStore, type Watch, type WatchEvent, WatchCompactedError } from './cluster-store.js';
import { Loop } from '../lib/loop.js';

export interface FollowPrefixOptions {
  store: ClusterStore;
  prefix: string;
  /** Deliver changes after this revision (exclusive), as watchPrefix. */
  fromRevision: number;
  onEvents: (events: WatchEvent[]) => void;
  /** Re-reads what the owner derives from the prefix after history was lost; returns the store revision read at. */
  resync: (reason: Error) => Promise<number>;
  /** Told when the watch was lost and when a resync attempt failed (for the owner's log). */
  onTrouble?: (error: unknown, what: 'watch lost' | 'resync failed') => void;
  retryDelayMs?: number;
}

export type FollowState = 'watching' | 'resyncing' | 'backoff' | 'closed';

export async function followPrefix(options: FollowPrefixOptions): Promise<Watch & { readonly state: FollowState }> {
  const { store, prefix, onEvents } = options;
  let current: Watch | undefined;
  /** Why the next resync runs: the lost watch, then the failure of the last attempt. */
  let reason: Error = new Error('watch lost');

  const open = (fromRevision: number): Promise<Watch> => store.watchPrefix(prefix, fromRevision, onEvents, lost);

  const resyncing = new Loop({
    pass: async () => {
      const revision = await options.resync(reason);
      if (resyncing.closed) return;
      const watch = await open(revision);
      if (resyncing.closed) await watch.close();
      else current = watch;
    },
    onError: (error) => {
      reason = error instanceof Error ? error : new Error(String(error));
      options.onTrouble?.(error, 'resync failed');
    },
    backoff: options.retryDelayMs ?? 1000,
  });

  function lost(error: Error): void {
    if (resyncing.closed) return;
    current = undefined;
    options.onTrouble?.(error, 'watch lost');
    reason = error;
    resyncing.wake();
  }

  try {
    current = await open(options.fromRevision);
  } catch (error) {
    if (!(error instanceof WatchCompactedError)) throw error;
    options.onTrouble?.(error, 'watch lost');
    // Resync now (the owner's first read is already stale); a failure here is the caller's, as at creation.
    current = await open(await options.resync(error));
  }
  return {
    get state(): FollowState {
      const state = resyncing.state;
      if (state === 'closing' || state === 'closed') return 'closed';
      if (state === 'running' || state === 'running+pending') return 'resyncing';
      return state === 'backoff' ? 'backoff' : 'watching';
    },
    close: async () => {
      const stopped = resyncing.close();
      const watch = current;
      current = undefined;
      await watch?.close();
      await stopped;
    },
  };
}

/**
 * followPrefix for level-triggered owners, which re-derive everything on each pass: any change under any of the
 * prefixes, and lost history, only means "run a pass" (wake). All follow from one store revision (by default read
 * now, at the first prefix); when one of them cannot be followed, none is.
 */
export async function followPrefixesWaking(
  store: ClusterStore,
  prefixes: readonly [string, ...string[]],
  wake: () => void,
  options: { fromRevision?: number; onTrouble?: (error: unknown, what: 'watch lost' | 'resync failed', prefix: string) => void; retryDelayMs?: number } = {},
): Promise<Watch[]> {
  const fromRevision = options.fromRevision ?? (await store.list(prefixes[0])).revision;
  const watches: Watch[] = [];
  try {
    for (const prefix of prefixes) {
      watches.push(
        await followPrefix({
          store,
          prefix,
          fromRevision,
          onEvents: wake,
          resync: async () => {
            const { revision } = await store.list(prefix);
            wake();
            return revision;
          },
          onTrouble: (error, what) => options.onTrouble?.(error, what, prefix),
          retryDelayMs: options.retryDelayMs,
        }),
      );
    }
  } catch (error) {
    await Promise.all(watches.map((watch) => watch.close().catch(() => undefined)));
    throw error;
  }
  return watches;
}
