import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IterableBackoff } from 'cockatiel';
import { Loop, type LoopOptions, type LoopTimer } from './loop.js';

/** Timers the test fires by hand. */
class FakeTimer implements LoopTimer {
  pending: Array<{ delayMs: number; callback: () => void }> = [];
  set(delayMs: number, callback: () => void): () => void {
    const entry = { delayMs, callback };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((e) => e !== entry);
    };
  }
  fire(): void {
    const due = this.pending;
    this.pending = [];
    for (const entry of due) entry.callback();
  }
  delays(): number[] {
    return this.pending.map((e) => e.delayMs);
  }
}

/** A pass the test finishes by hand. */
interface PendingPass {
  resolve(value: number): void;
  reject(error: Error): void;
}

function controlledPasses(): { passes: PendingPass[]; pass: () => Promise<number> } {
  const passes: PendingPass[] = [];
  return {
    passes,
    pass: () =>
      new Promise<number>((resolve, reject) => {
        passes.push({ resolve, reject });
      }),
  };
}

/** Lets the promise callbacks of finished passes run (no timers advance). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

// Ported from the tests of lib/wake-loop.ts (the scheduler of the OCSP poller and the expiry checker).
describe('Loop (timer injected)', () => {
  it('runs one pass at a time and merges wake-ups that arrive during a pass into one more pass', async () => {
    let release: () => void = () => undefined;
    let passes = 0;
    const loop = new Loop({
      pass: () => {
        passes += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      onError: () => undefined,
      backoff: 1000,
      timer: new FakeTimer(),
    });
    loop.wake();
    loop.wake();
    loop.wake();
    expect(passes).toBe(1);
    expect(loop.wakePending).toBe(true);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(passes).toBe(2);
    release();
    await loop.settled();
    expect(passes).toBe(2);
  });

  it('keeps one scheduled wake-up, reports failed passes, and does nothing after close', async () => {
    const timer = new FakeTimer();
    const errors: unknown[] = [];
    let passes = 0;
    const loop = new Loop({
      pass: async () => {
        passes += 1;
        throw new Error('store down');
      },
      onError: (error) => errors.push(error),
      backoff: 5000,
      timer,
    });
    loop.schedule(1000);
    loop.schedule(2000);
    expect(timer.delays()).toEqual([2000]);
    timer.fire();
    await loop.settled();
    expect(passes).toBe(1);
    expect(errors).toHaveLength(1);
    loop.schedule(5000);
    await loop.close();
    expect(timer.pending).toEqual([]);
    loop.wake();
    loop.schedule(10);
    loop.backOff();
    await loop.settled();
    expect(passes).toBe(1);
    expect(timer.pending).toEqual([]);
  });
});

// Ported from the tests of agent/reconcile-loop.ts (the scheduler of the node agent and the database reconciler).
describe('Loop (real timer API under vitest fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one pass at a time and merges the wake-ups made during a pass into one more pass', async () => {
    const { passes, pass } = controlledPasses();
    const loop = new Loop({ pass, onError: () => undefined, backoff: 1000 });
    loop.wake();
    expect(loop.state).toBe('running');
    loop.wake();
    loop.wake();
    expect(loop.state).toBe('running+pending');
    expect(passes).toHaveLength(1);
    passes[0]?.resolve(1);
    await settle();
    expect(passes).toHaveLength(2);
    expect(loop.state).toBe('running');
    passes[1]?.resolve(2);
    await settle();
    expect(loop.state).toBe('idle');
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(2);
  });

  it('reports a failed pass and retries it after the delay, in backoff meanwhile', async () => {
    const { passes, pass } = controlledPasses();
    const errors: Array<[unknown, number]> = [];
    const loop = new Loop({ pass, onError: (error, retryInMs) => errors.push([error, retryInMs]), backoff: 1000 });
    loop.wake();
    passes[0]?.reject(new Error('disk full'));
    await settle();
    expect(loop.state).toBe('backoff');
    expect(errors).toEqual([[new Error('disk full'), 1000]]);
    await vi.advanceTimersByTimeAsync(999);
    expect(passes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toHaveLength(2);
    passes[1]?.resolve(7);
    await settle();
    expect(loop.state).toBe('idle');
  });

  it('hands the result or error of runOnce() to the caller without retrying; backOff() schedules a retry', async () => {
    const { passes, pass } = controlledPasses();
    const onError = vi.fn();
    const loop = new Loop({ pass, onError, backoff: 1000 });
    const first = loop.runOnce();
    passes[0]?.resolve(42);
    await expect(first).resolves.toBe(42);

    const failing = loop.runOnce();
    passes[1]?.reject(new Error('store down'));
    await expect(failing).rejects.toThrow('store down');
    expect(loop.state).toBe('idle');
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(2);
    expect(onError).not.toHaveBeenCalled();

    expect(loop.backOff()).toBe(1000);
    expect(loop.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(1000);
    expect(passes).toHaveLength(3);
  });

  it('close() waits for the pass under way, cancels a pending retry and ignores later wake-ups', async () => {
    const { passes, pass } = controlledPasses();
    const onError = vi.fn();
    const loop = new Loop({ pass, onError, backoff: 1000 });
    loop.wake();
    loop.wake();
    let closed = false;
    const closing = loop.close().then(() => (closed = true));
    expect(loop.state).toBe('closing');
    expect(loop.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    passes[0]?.reject(new Error('late failure'));
    await closing;
    expect(loop.state).toBe('closed');
    loop.wake();
    loop.backOff();
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(1);
    expect(onError).not.toHaveBeenCalled();
    await expect(loop.runOnce()).rejects.toThrow('the loop is closed');

    const retrying = new Loop({ pass, onError: () => undefined, backoff: 1000 });
    retrying.wake();
    passes[1]?.reject(new Error('fails'));
    await settle();
    expect(retrying.state).toBe('backoff');
    await retrying.close();
    expect(retrying.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(2);
  });

  it('caps a delay longer than setTimeout can hold (the pass comes early, never never)', async () => {
    let passes = 0;
    const loop = new Loop({ pass: async () => void (passes += 1), onError: () => undefined, backoff: 1000 });
    loop.schedule(2 ** 40);
    await vi.advanceTimersByTimeAsync(2_147_483_647);
    expect(passes).toBe(1);
    await loop.close();
  });
});

// One test per transition of the header of lib/loop.ts.
describe('Loop transitions', () => {
  function make(extra: Partial<LoopOptions<number>> = {}): { loop: Loop<number>; timer: FakeTimer; passes: PendingPass[]; errors: Array<[unknown, number]> } {
    const timer = new FakeTimer();
    const { passes, pass } = controlledPasses();
    const errors: Array<[unknown, number]> = [];
    const loop = new Loop<number>({ pass, onError: (error, retryInMs) => errors.push([error, retryInMs]), backoff: 1000, timer, ...extra });
    return { loop, timer, passes, errors };
  }

  it('idle --wake()--> running', () => {
    const { loop, passes } = make();
    expect(loop.state).toBe('idle');
    loop.wake();
    expect(loop.state).toBe('running');
    expect(passes).toHaveLength(1);
  });

  it('idle --schedule(ms)--> scheduled --timer--> running', () => {
    const { loop, timer, passes } = make();
    loop.schedule(250);
    expect(loop.state).toBe('scheduled');
    expect(timer.delays()).toEqual([250]);
    timer.fire();
    expect(loop.state).toBe('running');
    expect(passes).toHaveLength(1);
  });

  it('scheduled --wake()--> running, and the timer is cancelled (one timer at most)', () => {
    const { loop, timer, passes } = make();
    loop.schedule(250);
    loop.wake();
    expect(loop.state).toBe('running');
    expect(timer.pending).toEqual([]);
    expect(passes).toHaveLength(1);
  });

  it('running --wake()--> running+pending --pass done--> running (one more pass for any number of wake-ups)', async () => {
    const { loop, passes } = make();
    loop.wake();
    loop.wake();
    loop.wake();
    expect(loop.state).toBe('running+pending');
    passes[0]?.resolve(1);
    await settle();
    expect(loop.state).toBe('running');
    expect(passes).toHaveLength(2);
  });

  it('running+pending --pass failed--> running at once (onError told, its backoff timer cancelled)', async () => {
    const { loop, timer, passes, errors } = make();
    loop.wake();
    loop.wake();
    passes[0]?.reject(new Error('conflict'));
    await settle();
    expect(errors).toHaveLength(1);
    expect(loop.state).toBe('running');
    expect(passes).toHaveLength(2);
    expect(timer.pending).toEqual([]);
  });

  it('running --pass done, schedule(ms) asked by the pass--> scheduled', async () => {
    const timer = new FakeTimer();
    const loop: Loop = new Loop({ pass: async () => loop.schedule(300), onError: () => undefined, backoff: 1000, intervalMs: 60_000, timer });
    loop.wake();
    expect(loop.state).toBe('running');
    await loop.settled();
    expect(loop.state).toBe('scheduled');
    expect(timer.delays()).toEqual([300]);
  });

  it('running --pass done, nothing asked, intervalMs set--> scheduled after intervalMs (periodic passes)', async () => {
    const { loop, timer, passes } = make({ intervalMs: 60_000 });
    loop.wake();
    passes[0]?.resolve(1);
    await settle();
    expect(loop.state).toBe('scheduled');
    expect(timer.delays()).toEqual([60_000]);
    timer.fire();
    expect(passes).toHaveLength(2);
    passes[1]?.resolve(2);
    await settle();
    expect(timer.delays()).toEqual([60_000]);
  });

  it('running --pass done, nothing asked, no intervalMs--> idle', async () => {
    const { loop, timer, passes } = make();
    loop.wake();
    passes[0]?.resolve(1);
    await settle();
    expect(loop.state).toBe('idle');
    expect(timer.pending).toEqual([]);
  });

  it('running --pass failed--> backoff (onError told with the delay, no interval) --timer--> running', async () => {
    const { loop, timer, passes, errors } = make({ intervalMs: 60_000 });
    loop.wake();
    passes[0]?.reject(new Error('store down'));
    await settle();
    expect(loop.state).toBe('backoff');
    expect(errors).toEqual([[new Error('store down'), 1000]]);
    expect(timer.delays()).toEqual([1000]);
    timer.fire();
    expect(loop.state).toBe('running');
    expect(passes).toHaveLength(2);
  });

  it('backoff --wake()--> running, and the retry timer is cancelled', async () => {
    const { loop, timer, passes } = make();
    loop.wake();
    passes[0]?.reject(new Error('store down'));
    await settle();
    loop.wake();
    expect(loop.state).toBe('running');
    expect(timer.pending).toEqual([]);
    expect(passes).toHaveLength(2);
  });

  it('running --backOff() asked by the pass--> backoff, without onError (the owner says why)', async () => {
    const timer = new FakeTimer();
    const onError = vi.fn();
    const delays: number[] = [];
    const loop: Loop = new Loop({
      pass: async () => {
        delays.push(loop.backOff(), loop.backOff(90_000));
      },
      onError,
      backoff: 1000,
      intervalMs: 60_000,
      timer,
    });
    loop.wake();
    await loop.settled();
    expect(loop.state).toBe('backoff');
    expect(delays).toEqual([1000, 90_000]);
    expect(timer.delays()).toEqual([90_000]);
    expect(onError).not.toHaveBeenCalled();
  });

  it('a pass that throws before it returns a promise fails like one that rejects', async () => {
    const timer = new FakeTimer();
    const errors: unknown[] = [];
    const loop = new Loop({
      pass: () => {
        throw new Error('synchronous');
      },
      onError: (error) => errors.push(error),
      backoff: 1000,
      timer,
    });
    loop.wake();
    await loop.settled();
    expect(errors).toEqual([new Error('synchronous')]);
    expect(loop.state).toBe('backoff');
  });

  it('idle|scheduled|backoff --close()--> closed, with no timer left', async () => {
    const idle = make();
    await idle.loop.close();
    expect(idle.loop.state).toBe('closed');

    const scheduled = make();
    scheduled.loop.schedule(100);
    await scheduled.loop.close();
    expect(scheduled.loop.state).toBe('closed');
    expect(scheduled.timer.pending).toEqual([]);

    const backoff = make();
    backoff.loop.backOff();
    expect(backoff.loop.state).toBe('backoff');
    await backoff.loop.close();
    expect(backoff.loop.state).toBe('closed');
    expect(backoff.timer.pending).toEqual([]);
  });

  it('running|running+pending --close()--> closing --pass ended--> closed: no error told, no further pass, no timer', async () => {
    const { loop, timer, passes, errors } = make({ intervalMs: 60_000 });
    loop.wake();
    loop.wake();
    const closing = loop.close();
    expect(loop.state).toBe('closing');
    passes[0]?.reject(new Error('aborted by close'));
    await closing;
    expect(loop.state).toBe('closed');
    expect(errors).toEqual([]);
    expect(passes).toHaveLength(1);
    expect(timer.pending).toEqual([]);
  });

  it('follow(): a source wakes the loop, and close() closes it; a source opened during close() is closed at once', async () => {
    const { loop, passes } = make();
    const closedSources: string[] = [];
    let wakeFromStore: () => void = () => undefined;
    await loop.follow(async (wake) => {
      wakeFromStore = wake;
      return { close: async () => void closedSources.push('watch') };
    });
    expect(passes).toHaveLength(0);
    wakeFromStore();
    expect(loop.state).toBe('running');
    let openLate: () => void = () => undefined;
    const late = loop.follow(() => new Promise((resolve) => (openLate = () => resolve([{ close: async () => void closedSources.push('late') }]))));
    const closing = loop.close();
    passes[0]?.resolve(1);
    await closing;
    expect(closedSources).toEqual(['watch']);
    openLate();
    await late;
    expect(closedSources).toEqual(['watch', 'late']);
    wakeFromStore();
    expect(passes).toHaveLength(1);
  });

  it('runOnce() refuses while a pass is under way', async () => {
    const { loop } = make();
    loop.wake();
    await expect(loop.runOnce()).rejects.toThrow('a pass is under way');
  });

  it('follows a cockatiel backoff policy step by step, and starts it over after a pass that succeeded', async () => {
    const { loop, timer, passes, errors } = make({ backoff: new IterableBackoff([100, 200, 400]) });
    loop.wake();
    for (const [index, expected] of [100, 200, 400, 400].entries()) {
      passes[index]?.reject(new Error(`failure ${index}`));
      await settle();
      expect(timer.delays()).toEqual([expected]);
      timer.fire();
    }
    expect(errors.map(([, delay]) => delay)).toEqual([100, 200, 400, 400]);
    passes[4]?.resolve(1);
    await settle();
    loop.wake();
    passes[5]?.reject(new Error('again'));
    await settle();
    expect(timer.delays()).toEqual([100]);
  });
});
