import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterStore, Watch } from './cluster-store.js';
import { WatchCompactedError } from './cluster-store.js';
import { followPrefix } from './follow-prefix.js';

/** A store whose watches the test loses by hand. */
function fakeStore(): { store: ClusterStore; opened: number[]; lose: () => void; closed: () => number } {
  const opened: number[] = [];
  let onLost: ((error: Error) => void) | undefined;
  let closed = 0;
  const store = {
    watchPrefix: async (_prefix: string, fromRevision: number, _onEvents: unknown, lost?: (error: Error) => void): Promise<Watch> => {
      opened.push(fromRevision);
      onLost = lost;
      return { close: async () => void (closed += 1) };
    },
  } as unknown as ClusterStore;
  return { store, opened, lose: () => onLost?.(new WatchCompactedError(1, undefined)), closed: () => closed };
}

describe('followPrefix', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resyncs a lost watch, backs off while the resync fails, and watches again from the revision it read', async () => {
    const { store, opened, lose } = fakeStore();
    const trouble: string[] = [];
    let failures = 1;
    const follow = await followPrefix({
      store,
      prefix: '/p/',
      fromRevision: 5,
      onEvents: () => undefined,
      resync: async () => {
        if (failures-- > 0) throw new Error('store down');
        return 9;
      },
      onTrouble: (_error, what) => trouble.push(what),
      retryDelayMs: 1000,
    });
    expect(follow.state).toBe('watching');
    lose();
    expect(follow.state).toBe('resyncing');
    await vi.advanceTimersByTimeAsync(0);
    expect(follow.state).toBe('backoff');
    expect(trouble).toEqual(['watch lost', 'resync failed']);
    await vi.advanceTimersByTimeAsync(999);
    expect(opened).toEqual([5]);
    await vi.advanceTimersByTimeAsync(1);
    expect(follow.state).toBe('watching');
    expect(opened).toEqual([5, 9]);
    await follow.close();
    expect(follow.state).toBe('closed');
  });

  it('close() during a resync waits for it and closes the watch it opened; a retry pending is cancelled', async () => {
    const { store, opened, lose, closed } = fakeStore();
    let finishResync: (revision: number) => void = () => undefined;
    const follow = await followPrefix({
      store,
      prefix: '/p/',
      fromRevision: 5,
      onEvents: () => undefined,
      resync: () => new Promise<number>((resolve) => (finishResync = resolve)),
    });
    lose();
    let done = false;
    const closing = follow.close().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    finishResync(9);
    await closing;
    expect(opened).toEqual([5]);
    expect(closed()).toBe(0);
    lose();
    await vi.advanceTimersByTimeAsync(5000);
    expect(opened).toEqual([5]);
  });
});
