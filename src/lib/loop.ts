// The one loop engine of certplane: it runs the passes of every level-triggered worker (the OCSP poller, the
// certificate-expiry checker, the node agent, the database reconciler, the resync of followPrefix, the
// leader-only tasks of runWhileLeader, the re-registration of a node). A pass reads the whole state it needs, so
// wake-ups merge and a missed one costs nothing but a later pass.
//
// States (Loop.state) and transitions:
//   idle                    --wake()---------------------------------> running
//   idle                    --schedule(ms)---------------------------> scheduled
//   scheduled               --timer or wake()------------------------> running
//   running                 --wake()---------------------------------> running+pending (any number of wake-ups: one more pass)
//   running                 --pass done, the pass asked a timer------> scheduled (schedule(ms)) or backoff (backOff())
//   running                 --pass done, nothing asked, intervalMs---> scheduled (after intervalMs: periodic passes)
//   running                 --pass done, nothing asked---------------> idle
//   running                 --pass failed----------------------------> backoff (onError(error, delayMs) is told)
//   backoff                 --timer (the policy's delay) or wake()---> running
//   running+pending         --pass done or failed--------------------> running (at once: a change may cure a failure)
//   idle|scheduled|backoff  --close()--------------------------------> closed
//   running|running+pending --close()--------------------------------> closing --pass ended--> closed (no error told)
// At most one timer: a newer schedule()/backOff() replaces it, and every pass start cancels it (the pass
// derives the next one). The backoff policy (cockatiel, as for etcd watches and redis-server restarts; a number
// means a constant delay) starts over after a pass that succeeded without asking for backoff. runOnce() runs a
// pass whose outcome goes to the caller instead (no onError, no backoff: the caller decides, e.g. backOff()).
// The sources of wake-ups (store watches) are opened with follow() and closed by close(). Timers are injected so
// schedules are testable. LoopWorker (below) is a Loop for the leader-only workers that name their own states.
import { ConstantBackoff, type IBackoff, type IBackoffFactory } from 'cockatiel';
import type { Clock } from './clock.js';

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

/** What wakes a loop (a store watch): closed with it. */
export interface WakeSource {
  close(): Promise<void>;
}

export type LoopState = 'idle' | 'scheduled' | 'running' | 'running+pending' | 'backoff' | 'closing' | 'closed';

export interface LoopOptions<T> {
  /** One pass; a rejection is a failure (told to onError, retried after the backoff). */
  pass: () => Promise<T>;
  /** The one place a failed pass is reported (the owner logs it), with the delay before the retry. */
  onError: (error: unknown, retryInMs: number) => void;
  /** Delay before retrying a failed pass: milliseconds (constant) or a cockatiel backoff. */
  backoff: number | IBackoffFactory<unknown>;
  /** Time from the end of a pass to the next one when the pass asked for nothing else (periodic work). */
  intervalMs?: number;
  timer?: LoopTimer;
}

export class Loop<T = void> {
  private running: Promise<void> | undefined;
  private pending = false;
  private timer: { kind: 'scheduled' | 'backoff'; cancel: () => void } | undefined;
  private closeCalled = false;
  private sources: WakeSource[] = [];
  private readonly policy: IBackoffFactory<unknown>;
  private readonly timers: LoopTimer;
  /** Where the backoff sequence stands since the last pass that succeeded. */
  private backoffStep: IBackoff<unknown> | undefined;

  constructor(private readonly options: LoopOptions<T>) {
    this.policy = typeof options.backoff === 'number' ? new ConstantBackoff(options.backoff) : options.backoff;
    this.timers = options.timer ?? realTimer;
  }

  get state(): LoopState {
    if (this.closeCalled) return this.running === undefined ? 'closed' : 'closing';
    if (this.running !== undefined) return this.pending ? 'running+pending' : 'running';
    return this.timer?.kind ?? 'idle';
  }

  /** close() was called: no pass starts any more, and a pass under way should drop what it found. */
  get closed(): boolean {
    return this.closeCalled;
  }

  /** Whether a wake-up arrived during the current pass (a change that may explain what the pass saw). */
  get wakePending(): boolean {
    return this.pending;
  }

  /** Runs a pass now, or once the current one ends (wake-ups during a pass merge into one more pass). */
  wake(): void {
    if (this.closeCalled) return;
    if (this.running !== undefined) {
      this.pending = true;
      return;
    }
    // The outcome is handled in start() (onError and backoff); this promise only carries it.
    this.start(true).catch(() => undefined);
  }

  /** Runs a pass after delayMs (from inside a pass: the next pass after this one); replaces the timer set earlier. */
  schedule(delayMs: number): void {
    this.arm('scheduled', delayMs);
  }

  /**
   * Retries after the backoff policy's next delay, or after delayMs when given, without telling onError (the
   * owner says why): from inside a pass, the pass did not do its work. Returns the delay.
   */
  backOff(delayMs?: number): number {
    const delay = delayMs ?? this.nextBackoffDelay();
    this.arm('backoff', delay);
    return delay;
  }

  /** Runs a pass now and hands its result or its error to the caller (not to onError, and no retry). */
  runOnce(): Promise<T> {
    if (this.closeCalled) return Promise.reject(new Error('the loop is closed'));
    if (this.running !== undefined) return Promise.reject(new Error('a pass is under way'));
    return this.start(false);
  }

  /**
   * Opens what wakes this loop (open gets wake(); e.g. store watches); close() closes it. Opened during close(),
   * it is closed at once.
   */
  async follow(open: (wake: () => void) => Promise<WakeSource | WakeSource[]>): Promise<void> {
    const opened = await open(() => this.wake());
    const sources = Array.isArray(opened) ? opened : [opened];
    if (this.closeCalled) await closeAll(sources);
    else this.sources.push(...sources);
  }

  /** Resolves when no pass is in flight (tests). */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Stops at once (no new pass, no timer), closes the sources of wake-ups, and resolves when a pass under way has ended. */
  async close(): Promise<void> {
    this.closeCalled = true;
    this.pending = false;
    this.cancelTimer();
    const sources = this.sources;
    this.sources = [];
    await Promise.all([this.running, closeAll(sources)]);
  }

  private start(retryOnError: boolean): Promise<T> {
    this.cancelTimer();
    this.pending = false;
    // Started at once; a pass that throws before it returns a promise fails like one that rejects.
    const pass = (async () => this.options.pass())();
    this.running = pass
      .then(
        () => this.passDone(),
        (error: unknown) => {
          if (!this.closeCalled && retryOnError) this.options.onError(error, this.backOff());
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.pending && !this.closeCalled) this.wake();
      });
    return pass;
  }

  private passDone(): void {
    if (this.closeCalled || this.timer?.kind === 'backoff') return;
    this.backoffStep = undefined;
    if (this.timer === undefined && !this.pending && this.options.intervalMs !== undefined) this.schedule(this.options.intervalMs);
  }

  private nextBackoffDelay(): number {
    this.backoffStep = (this.backoffStep ?? this.policy).next(undefined);
    return this.backoffStep.duration;
  }

  private arm(kind: 'scheduled' | 'backoff', delayMs: number): void {
    this.cancelTimer();
    if (this.closeCalled) return;
    const timer = {
      kind,
      cancel: this.timers.set(delayMs, () => {
        if (this.timer !== timer) return;
        this.timer = undefined;
        this.wake();
      }),
    };
    this.timer = timer;
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/** The states every LoopWorker reports beside its own. */
export type WorkerState = { name: 'stopped' } | { name: 'backoff'; reason: string; retryAt: Date } | { name: 'closed' };

/** The logging a LoopWorker and its passes need (pino and Fastify loggers fit). */
export interface WorkerLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface LoopWorkerOptions {
  clock: Clock;
  log: WorkerLog;
  timer?: LoopTimer | undefined;
  /** The log line of a failed pass. */
  failure: string;
  /** Wait after a failed pass. */
  retryDelayMs: number;
  intervalMs?: number;
}

/**
 * A leader-only worker whose work is the passes of a Loop (the OCSP poller, the certificate-expiry checker): it
 * names its own states beside stopped, backoff and closed (`state`); a failed pass is logged (`failure`) and
 * retried after retryDelayMs, in backoff meanwhile. start() follows what wakes it and runs a first pass.
 */
export abstract class LoopWorker<S extends { name: string }> {
  state: S | WorkerState = { name: 'stopped' };
  protected readonly loop: Loop;

  protected constructor(private readonly worker: LoopWorkerOptions) {
    this.loop = new Loop({
      pass: () => this.pass(),
      onError: (error, retryInMs) => {
        this.enterBackoff(`store error: ${(error as Error).message}`, retryInMs);
        worker.log.error({ err: error }, worker.failure);
      },
      backoff: worker.retryDelayMs,
      ...(worker.intervalMs === undefined ? {} : { intervalMs: worker.intervalMs }),
      ...(worker.timer === undefined ? {} : { timer: worker.timer }),
    });
  }

  /** One pass: reads what it needs and acts (level-triggered). */
  protected abstract pass(): Promise<void>;

  /** What wakes the worker (its store watches). */
  protected abstract follow(wake: () => void): Promise<WakeSource | WakeSource[]>;

  /** Follows what wakes it, then runs a first pass; resolves once the watches are in place. */
  async start(): Promise<void> {
    await this.loop.follow((wake) => this.follow(wake));
    this.loop.wake();
  }

  /** No new pass or timer from here on; the watches close; resolves when a pass under way has ended. */
  async close(): Promise<void> {
    this.state = { name: 'closed' };
    await this.loop.close();
  }

  /** Resolves when no pass is in flight (tests). */
  async settled(): Promise<void> {
    await this.loop.settled();
  }

  protected isClosed(): boolean {
    return this.state.name === 'closed';
  }

  protected enterBackoff(reason: string, delayMs: number): void {
    this.state = { name: 'backoff', reason, retryAt: new Date(this.worker.clock.now().getTime() + delayMs) };
  }
}

async function closeAll(sources: readonly WakeSource[]): Promise<void> {
  await Promise.all(sources.map((source) => source.close().catch(() => undefined)));
}
