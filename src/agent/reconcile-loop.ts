// Schedules the passes of a level-triggered reconciler (NodeAgent, DatabaseReconciler): one pass at a time; a
// request that arrives during a pass runs one more pass after it (requests merge, which loses nothing because a
// pass reads the whole desired state); a failed pass is retried after a delay; close() stops it all.
//
// States and transitions (the owners expose them as their own state):
//   stopped --runFirst()/request()--> reconciling --done--> watching --request()--> reconciling
//   reconciling --error--> backoff --timer or request()--> reconciling
//   reconciling --runFirst() failed--> stopped (the owner decides: give up, or retryLater() → backoff)
//   any --close()--> closed
export type ReconcileLoopState = 'stopped' | 'reconciling' | 'watching' | 'backoff' | 'closed';

export interface ReconcileLoopOptions<T> {
  /** One reconcile pass; a rejection means "retry later". */
  pass: () => Promise<T>;
  /** Told about a failed pass (not the first one: runFirst() hands its error to the caller) before the retry. */
  onError: (error: unknown) => void;
  retryDelayMs: number;
}

export class ReconcileLoop<T = unknown> {
  state: ReconcileLoopState = 'stopped';
  private running: Promise<void> | undefined;
  private dirty = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReconcileLoopOptions<T>) {}

  /** Runs a pass now and hands back its result or its error; a failure is not retried (see retryLater()). */
  runFirst(): Promise<T> {
    return this.run(false);
  }

  /** Asks for a pass: now when idle, else once the current pass ends. Never throws. */
  request(): void {
    if (this.state === 'closed') return;
    if (this.running !== undefined) {
      this.dirty = true;
      return;
    }
    // The pass's error is handled (logged and retried) inside run(); this promise only carries it.
    this.run(true).catch(() => undefined);
  }

  /** Runs a pass after the retry delay (the only timer: a newer retry replaces an older one). */
  retryLater(): void {
    if (this.state === 'closed') return;
    this.state = 'backoff';
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.request(), this.options.retryDelayMs);
  }

  /** Stops at once (no new pass, no retry) and resolves when a pass under way has ended. */
  close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    return this.running?.catch(() => undefined) ?? Promise.resolve();
  }

  private run(retryOnError: boolean): Promise<T> {
    this.state = 'reconciling';
    const pass = this.options.pass();
    this.running = pass
      .then(
        () => {
          if (this.state !== 'closed') this.state = 'watching';
        },
        (error: unknown) => {
          if (this.state === 'closed') return;
          if (!retryOnError) {
            this.state = 'stopped';
            return;
          }
          this.options.onError(error);
          this.retryLater();
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.dirty && this.state !== 'closed') {
          this.dirty = false;
          this.request();
        }
      });
    return pass;
  }
}
