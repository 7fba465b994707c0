// Wires internal certificate rotation (src/rotation): the operations POST /v1/cluster/certificates/rotate uses on
// every node, and the scheduled rotation job, which runs only while this node leads the cluster's background work,
// with the leader fence on its writes (a new leader picks the schedule up from the job record in the store).
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { InternalRotation } from '../rotation/internal-rotation.js';
import { RotationScheduler } from '../rotation/rotation-scheduler.js';
import { generateInternalCa, issueInternodeCertificate } from './cluster-pki.js';
import { runWhileLeader, type Leadership } from './run-while-leader.js';

export function internalRotation({ store, clock }: { store: ClusterStore; clock: Clock }): InternalRotation {
  return new InternalRotation({ store, clock, pki: { issueInternode: issueInternodeCertificate, generateCa: generateInternalCa } });
}

/** Runs the rotation job while this node leads; returns the closer of that arrangement. */
export function rotateWhileLeader({ rotation, store, clock, log, leadership }: { rotation: InternalRotation; store: ClusterStore; clock: Clock; log: Logger; leadership: Leadership }): () => Promise<void> {
  const jobLog = log.child({ part: 'rotation' });
  return runWhileLeader(leadership, (fence) => new RotationScheduler({ store, clock, log: jobLog, rotation, fence }), jobLog, 'certificate rotation job');
}
