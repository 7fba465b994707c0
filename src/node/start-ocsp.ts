// Wires the OCSP part of a node: the staple source every node keeps (TLS listeners staple from it), the
// operations the REST API calls (POST /v1/ocsp/test), and the poller, which runs only while this node leads.
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import { runWhileLeader, type Leadership } from './run-while-leader.js';
import type { Clock } from '../lib/clock.js';
import type { OcspOperations } from '../domain/ocsp-status.js';
import { createStapleLookup, createStapleSource, type StapleSource } from '../ocsp/staple-source.js';
import { createOcspOperations } from '../ocsp/ocsp-tester.js';
import { OcspPoller } from '../ocsp/ocsp-poller.js';

export interface RunningOcsp {
  stapleSource: StapleSource;
  /** certificate DER → staple, for the database proxy's 'OCSPRequest' hook. */
  stapleFor: (certificate: Buffer) => Buffer | undefined;
  operations: OcspOperations;
  /** Runs the poller while this node leads; returns the closer of that arrangement. */
  pollWhileLeader(leadership: Leadership): () => Promise<void>;
  close(): Promise<void>;
}

export async function startOcsp({ store, clock, log }: { store: ClusterStore; clock: Clock; log: Logger }): Promise<RunningOcsp> {
  const ocspLog = log.child({ part: 'ocsp' });
  const stapleSource = await createStapleSource({ store, clock });
  return {
    stapleSource,
    stapleFor: createStapleLookup(stapleSource, ocspLog),
    operations: createOcspOperations({ store, clock, log: ocspLog }),
    pollWhileLeader: (leadership) =>
      runWhileLeader(leadership, (fence) => new OcspPoller({ store, clock, log: ocspLog, fence }), ocspLog, 'OCSP poller'),
    close: () => stapleSource.close(),
  };
}
