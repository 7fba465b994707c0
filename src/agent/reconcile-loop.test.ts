import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReconcileLoop } from './reconcile-loop.js';

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

describe('ReconcileLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one pass at a time and merges the requests made during a pass into one more pass', async () => {
    const { passes, pass } = controlledPasses();
    const loop = new ReconcileLoop({ pass, onError: () => undefined, retryDelayMs: 1000 });
    loop.request();
    expect(loop.state).toBe('reconciling');
    loop.request();
    loop.request();
    expect(passes).toHaveLength(1);
    passes[0]?.resolve(1);
    await settle();
    expect(passes).toHaveLength(2);
    expect(loop.state).toBe('reconciling');
    passes[1]?.resolve(2);
    await settle();
    expect(loop.state).toBe('watching');
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(2);
  });

  it('reports a failed pass and retries it after the delay, in backoff meanwhile', async () => {
    const { passes, pass } = controlledPasses();
    const errors: unknown[] = [];
    const loop = new ReconcileLoop({ pass, onError: (error) => errors.push(error), retryDelayMs: 1000 });
    loop.request();
    passes[0]?.reject(new Error('disk full'));
    await settle();
    expect(loop.state).toBe('backoff');
    expect(errors).toEqual([new Error('disk full')]);
    await vi.advanceTimersByTimeAsync(999);
    expect(passes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toHaveLength(2);
    passes[1]?.resolve(7);
    await settle();
    expect(loop.state).toBe('watching');
  });

  it('hands the first pass result or error to the caller without retrying; retryLater() schedules a retry', async () => {
    const { passes, pass } = controlledPasses();
    const onError = vi.fn();
    const loop = new ReconcileLoop({ pass, onError, retryDelayMs: 1000 });
    const first = loop.runFirst();
    passes[0]?.resolve(42);
    await expect(first).resolves.toBe(42);

    const failing = loop.runFirst();
    passes[1]?.reject(new Error('store down'));
    await expect(failing).rejects.toThrow('store down');
    expect(loop.state).toBe('stopped');
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(2);
    expect(onError).not.toHaveBeenCalled();

    loop.retryLater();
    expect(loop.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(1000);
    expect(passes).toHaveLength(3);
  });

  it('close() waits for the pass under way, cancels a pending retry and ignores later requests', async () => {
    const { passes, pass } = controlledPasses();
    const onError = vi.fn();
    const loop = new ReconcileLoop({ pass, onError, retryDelayMs: 1000 });
    loop.request();
    loop.request();
    let closed = false;
    const closing = loop.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    passes[0]?.reject(new Error('late failure'));
    await closing;
    expect(loop.state).toBe('closed');
    loop.request();
    loop.retryLater();
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(1);
    expect(onError).not.toHaveBeenCalled();

    const retrying = new ReconcileLoop({ pass, onError: () => undefined, retryDelayMs: 1000 });
    retrying.request();
    passes[1]?.reject(new Error('fails'));
    await settle();
    expect(retrying.state).toBe('backoff');
    await retrying.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toHaveLength(2);
  });
});
