// Follows a prefix for as long as the owner wants, across lost watch history (issue 10.6): a node that was
// stopped while etcd compacted past the revision it watched from re-reads the state it needs and resumes,
// instead of silently losing its watch and never converging.
//
// States and transitions:
//   watching --watch lost (WatchCompactedError or another cancel)--> resyncing
//   resyncing --resync() ok, watch created from its revision--> watching
//   resyncing --resync() or watch creation failed--> backoff --retryDelayMs--> resyncing
//   any --close()--> closed
// The first watch is created before followPrefix resolves; when its revision is already compacted it resyncs
// first (so a node started long after the last change to a key still follows it).
import { type ClusterStore, type Watch, type WatchEvent, WatchCompactedError } from './cluster-store.js';

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
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let state: FollowState = 'watching';
  let current: Watch | undefined;
  let timer: NodeJS.Timeout | undefined;
  // A function, so TypeScript does not narrow `state` across the awaits below.
  const isClosed = (): boolean => state === 'closed';

  const open = (fromRevision: number): Promise<Watch> => store.watchPrefix(prefix, fromRevision, onEvents, lost);

  function lost(error: Error): void {
    if (isClosed()) return;
    current = undefined;
    options.onTrouble?.(error, 'watch lost');
    void resync(error);
  }

  async function resync(reason: Error): Promise<void> {
    if (isClosed()) return;
    state = 'resyncing';
    try {
      const revision = await options.resync(reason);
      if (!isClosed()) {
        const watch = await open(revision);
        if (isClosed()) {
          await watch.close();
          return;
        }
        current = watch;
        state = 'watching';
      }
    } catch (error) {
      if (isClosed()) return;
      options.onTrouble?.(error, 'resync failed');
      state = 'backoff';
      timer = setTimeout(() => void resync(error instanceof Error ? error : new Error(String(error))), retryDelayMs);
    }
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
    get state() {
      return state;
    },
    close: async () => {
      state = 'closed';
      clearTimeout(timer);
      const watch = current;
      current = undefined;
      await watch?.close();
    },
  };
}

/**
 * followPrefix for level-triggered owners, which re-derive everything on each pass: any change, and lost
 * history, only means "run a pass" (wake).
 */
export function followPrefixWaking(
  store: ClusterStore,
  prefix: string,
  fromRevision: number,
  wake: () => void,
  onTrouble?: FollowPrefixOptions['onTrouble'],
): Promise<Watch> {
  return followPrefix({
    store,
    prefix,
    fromRevision,
    onEvents: wake,
    resync: async () => {
      const { revision } = await store.list(prefix);
      wake();
      return revision;
    },
    ...(onTrouble === undefined ? {} : { onTrouble }),
  });
}
