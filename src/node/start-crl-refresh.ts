// Wires the CRL refresher (src/crl, certplane extension): it runs only while this node leads the cluster's
// background work, with the leader fence on its writes.
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { CrlRefresher } from '../crl/crl-refresher.js';
import { runWhileLeader, type Leadership } from './run-while-leader.js';

/** Runs the refresher while this node leads; returns the closer of that arrangement. */
export function refreshCrlsWhileLeader({ store, clock, log, leadership }: { store: ClusterStore; clock: Clock; log: Logger; leadership: Leadership }): () => Promise<void> {
  const crlLog = log.child({ part: 'crl' });
  return runWhileLeader(leadership, (fence) => new CrlRefresher({ store, clock, log: crlLog, fence }), crlLog, 'CRL refresher');
}
