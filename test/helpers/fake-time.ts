// Clock and timers under a unit test's control, for loops driven by lib/loop.ts (OCSP poller, expiry
// checker): advanceMs() fires due timers in time order and lets the loop under test settle after each.
import type { LoopTimer } from '../../src/lib/loop.js';

export class FakeTime implements LoopTimer {
  private t: number;
  private timers: Array<{ at: number; callback: () => void }> = [];
  /** The loop whose passes settle() waits for. */
  subject: { settled(): Promise<void> } | undefined;
  readonly clock = { now: (): Date => new Date(this.t) };

  constructor(readonly start: number) {
    this.t = start;
  }

  set(delayMs: number, callback: () => void): () => void {
    const entry = { at: this.t + delayMs, callback };
    this.timers.push(entry);
    return () => {
      this.timers = this.timers.filter((e) => e !== entry);
    };
  }

  async advanceMs(ms: number): Promise<void> {
    const target = this.t + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      const next = this.timers.filter((e) => e.at <= target).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.timers = this.timers.filter((e) => e !== next);
      this.t = next.at;
      next.callback();
      await this.settle();
    }
    this.t = target;
  }

  /** Lets store watch deliveries and the loop's pass finish. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await this.subject?.settled();
    }
  }

  /** Seconds since the start. */
  seconds(): number {
    return (this.t - this.start) / 1000;
  }

  pending(): number {
    return this.timers.length;
  }
}
