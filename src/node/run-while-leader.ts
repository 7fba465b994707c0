// Runs a piece of cluster-wide background work (the OCSP poller, the certificate-expiry check) only while this
// node leads: started when leadership is won, closed when it is lost or the node stops, and started again
// after a delay if it fails to start.
import type { Logger } from 'pino';
import type { Compare } from '../store/cluster-store.js';

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
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const follow = (isLeader: boolean): void => {
    clearTimeout(retry);
    if (stopped) return;
    if (isLeader && task === undefined) {
      const started = create(() => leadership.fence());
      task = started;
      started.start().catch((error: unknown) => {
        log.error({ err: error }, `${what} could not start; retrying`);
        if (task === started) task = undefined;
        void started.close();
        retry = setTimeout(() => follow(leadership.isLeader()), RESTART_DELAY_MS);
      });
    } else if (!isLeader && task !== undefined) {
      const previous = task;
      task = undefined;
      void previous.close();
    }
  };
  const unsubscribe = leadership.onChange(follow);
  follow(leadership.isLeader());
  return async () => {
    stopped = true;
    clearTimeout(retry);
    unsubscribe();
    await task?.close();
    task = undefined;
  };
}
