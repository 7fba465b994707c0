// The scheduling core of the leader-only background loops (OCSP poller, certificate-expiry checker): one pass at a
// time; a wake-up during a pass runs one more pass after it (passes are level-triggered, so merged wake-ups lose
// nothing); one timer at a time for the next pass; close() stops everything and waits for a pass under way.
// Timers are injected so schedules are testable without sleeping.

export interface LoopTimer {
  /** Calls back after delayMs; returns the cancel function. */
  set(delayMs: number, callback: () => void): () => void;
}

export const realTimer: LoopTimer = {
  set(delayMs, callback) {
    // setTimeout holds at most 2^31-1 ms; a longer wait wakes early, which a level-triggered pass tolerates.
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), 2_147_483_647));
    return () => clearTimeout(timer);
  },
};

export class WakeLoop {
  private running: Promise<void> | undefined;
  private dirty = false;
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  /** `pass` runs one pass; `onError` is told about a pass that failed (not after close()). */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly timer: LoopTimer = realTimer,
  ) {}

  /** Runs a pass now, or once the current one ends. */
  wake(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.dirty = true;
      return;
    }
    this.running = this.pass()
      .catch((error: unknown) => {
        if (!this.closed) this.onError(error);
      })
      .finally(() => {
        this.running = undefined;
        if (this.dirty && !this.closed) {
          this.dirty = false;
          this.wake();
        }
      });
  }

  /** Asks for one more pass after the current one (from inside a pass). */
  wakeAfterPass(): void {
    this.dirty = true;
  }

  /** Whether a wake-up arrived during the current pass (a change that may explain what the pass saw). */
  get wakePending(): boolean {
    return this.dirty;
  }

  /** Wakes after delayMs; replaces a wake-up scheduled earlier. */
  schedule(delayMs: number): void {
    this.cancelSchedule();
    if (this.closed) return;
    this.cancelTimer = this.timer.set(delayMs, () => {
      this.cancelTimer = undefined;
      this.wake();
    });
  }

  cancelSchedule(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Resolves when no pass is in flight (tests). */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelSchedule();
    await this.running?.catch(() => undefined);
  }
}
