// Wires the alert dispatcher (src/alerts): it runs only while this node leads the cluster's background work, with
// the leader fence on its writes; a new leader delivers what is still queued in the store.
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { AlertDispatcher } from '../alerts/alert-dispatcher.js';
import { runWhileLeader, type Leadership } from './run-while-leader.js';

/** Runs the dispatcher while this node leads; returns the closer of that arrangement. */
export function deliverAlertsWhileLeader({ store, clock, log, leadership }: { store: ClusterStore; clock: Clock; log: Logger; leadership: Leadership }): () => Promise<void> {
  const alertLog = log.child({ part: 'alerts' });
  return runWhileLeader(leadership, (fence) => new AlertDispatcher({ store, clock, log: alertLog, fence }), alertLog, 'alert dispatcher');
}
