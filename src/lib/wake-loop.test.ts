import { describe, expect, it } from 'vitest';
import { WakeLoop, type LoopTimer } from './wake-loop.js';

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
}

describe('WakeLoop', () => {
  it('runs one pass at a time and merges wake-ups that arrive during a pass into one more pass', async () => {
    let release: () => void = () => undefined;
    let passes = 0;
    const loop = new WakeLoop(
      () => {
        passes += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      () => undefined,
      new FakeTimer(),
    );
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
    const loop = new WakeLoop(
      async () => {
        passes += 1;
        throw new Error('store down');
      },
      (error) => errors.push(error),
      timer,
    );
    loop.schedule(1000);
    loop.schedule(2000);
    expect(timer.pending.map((e) => e.delayMs)).toEqual([2000]);
    timer.fire();
    await loop.settled();
    expect(passes).toBe(1);
    expect(errors).toHaveLength(1);
    loop.schedule(5000);
    await loop.close();
    expect(timer.pending).toEqual([]);
    loop.wake();
    loop.schedule(10);
    await loop.settled();
    expect(passes).toBe(1);
  });
});
