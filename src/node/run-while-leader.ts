// Runs a piece of cluster-wide background work (the OCSP poller, the certificate-expiry check) only while this
// node leads: started when leadership is won, closed when it is lost or the node stops, and started again
// after a delay if it fails to start.
import type { Logger } from 'pino';
import type { Compare } from '../store/cluster-store.js';
import { Loop } from '../lib/loop.js';

/** What background work needs from the leader election (src/node/leader-election.ts). */
export interface Leadership {
  isLeader(): boolean;
  onChange(listener: (isLeader: boolean) => void): () => void;
  /** A compare that holds only while this node still leads; guards the work's writes. */
  fence(): Compare;
}

export interface LeaderTask {
  start(): Promise<void>;
  close(): Promise<void>;
}

const RESTART_DELAY_MS = 5000;

/** Returns the closer of the arrangement. `create` gets the fence to put on every write. */
export function runWhileLeader(leadership: Leadership, create: (fence: () => Compare) => LeaderTask, log: Logger, what: string): () => Promise<void> {
  let task: LeaderTask | undefined;
  const stop = (): void => {
    const previous = task;
    task = undefined;
    void previous?.close();
  };
  // Each pass brings the task in line with the leadership (lib/loop.ts: a failed start is retried after a delay).
  const loop = new Loop({
    pass: async () => {
      if (!leadership.isLeader()) {
        stop();
        return;
      }
      if (task !== undefined) return;
      const started = create(() => leadership.fence());
      task = started;
      try {
        await started.start();
      } catch (error) {
        if (task === started) task = undefined;
        void started.close();
        throw error;
      }
    },
    onError: (error) => log.error({ err: error }, `${what} could not start; retrying`),
    backoff: RESTART_DELAY_MS,
  });
  const unsubscribe = leadership.onChange((isLeader) => {
    // Leadership lost: stop at once, even while the task is still starting.
    if (!isLeader) stop();
    loop.wake();
  });
  loop.wake();
  return async () => {
    unsubscribe();
    const stopped = loop.close(); // no new start from here on
    const previous = task;
    task = undefined;
    await previous?.close();
    await stopped;
  };
}
