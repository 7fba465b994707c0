// Wires the certificate-expiry checker (src/expiry): it runs only while this node leads the cluster's background
// work, with the leader fence on its writes; a new leader picks up from the raised alerts kept in the store.
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { ExpiryChecker } from '../expiry/expiry-checker.js';
import type { Leadership } from './start-ocsp.js';

/** Runs the checker while this node leads; returns the closer of that arrangement. */
export function checkExpiryWhileLeader({ store, clock, log, leadership }: { store: ClusterStore; clock: Clock; log: Logger; leadership: Leadership }): () => Promise<void> {
  const expiryLog = log.child({ part: 'expiry' });
  let checker: ExpiryChecker | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const follow = (isLeader: boolean): void => {
    clearTimeout(retry);
    if (stopped) return;
    if (isLeader && checker === undefined) {
      const started = new ExpiryChecker({ store, clock, log: expiryLog, fence: () => leadership.fence() });
      checker = started;
      started.start().catch((error: unknown) => {
        expiryLog.error({ err: error }, 'certificate expiry checker could not start; retrying');
        if (checker === started) checker = undefined;
        void started.close();
        retry = setTimeout(() => follow(leadership.isLeader()), 5000);
      });
    } else if (!isLeader && checker !== undefined) {
      const previous = checker;
      checker = undefined;
      void previous.close();
    }
  };
  const unsubscribe = leadership.onChange(follow);
  follow(leadership.isLeader());
  return async () => {
    stopped = true;
    clearTimeout(retry);
    unsubscribe();
    await checker?.close();
    checker = undefined;
  };
}
