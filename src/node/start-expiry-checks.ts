// Wires the certificate-expiry checker (src/expiry): it runs only while this node leads the cluster's background
// work, with the leader fence on its writes; a new leader picks up from the raised alerts kept in the store.
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { ExpiryChecker } from '../expiry/expiry-checker.js';
import { runWhileLeader, type Leadership } from './run-while-leader.js';

/** Runs the checker while this node leads; returns the closer of that arrangement. */
export function checkExpiryWhileLeader({ store, clock, log, leadership }: { store: ClusterStore; clock: Clock; log: Logger; leadership: Leadership }): () => Promise<void> {
  const expiryLog = log.child({ part: 'expiry' });
  return runWhileLeader(leadership, (fence) => new ExpiryChecker({ store, clock, log: expiryLog, fence }), expiryLog, 'certificate expiry checker');
}
