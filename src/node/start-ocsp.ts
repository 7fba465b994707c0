// Wires the OCSP part of a node: the staple source every node keeps (TLS listeners staple from it), the
// operations the REST API calls (POST /v1/ocsp/test), and the poller, which runs only while this node leads.
import type { Logger } from 'pino';
import type { ClusterStore, Compare } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import type { OcspOperations } from '../domain/ocsp-status.js';
import { createStapleLookup, createStapleSource, type StapleSource } from '../ocsp/staple-source.js';
import { createOcspOperations } from '../ocsp/ocsp-tester.js';
import { OcspPoller } from '../ocsp/ocsp-poller.js';

/** What the poller needs from the leader election (src/node/leader-election.ts). */
export interface Leadership {
  isLeader(): boolean;
  onChange(listener: (isLeader: boolean) => void): () => void;
  fence(): Compare;
}

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
    pollWhileLeader(leadership) {
      let poller: OcspPoller | undefined;
      let retry: NodeJS.Timeout | undefined;
      let stopped = false;
      const follow = (isLeader: boolean): void => {
        clearTimeout(retry);
        if (stopped) return;
        if (isLeader && poller === undefined) {
          const started = new OcspPoller({ store, clock, log: ocspLog, fence: () => leadership.fence() });
          poller = started;
          started.start().catch((error: unknown) => {
            ocspLog.error({ err: error }, 'OCSP poller could not start; retrying');
            if (poller === started) poller = undefined;
            void started.close();
            retry = setTimeout(() => follow(leadership.isLeader()), 5000);
          });
        } else if (!isLeader && poller !== undefined) {
          const previous = poller;
          poller = undefined;
          void previous.close();
        }
      };
      const unsubscribe = leadership.onChange(follow);
      follow(leadership.isLeader());
      return async () => {
        stopped = true;
        clearTimeout(retry);
        unsubscribe();
        await poller?.close();
        poller = undefined;
      };
    },
    close: () => stapleSource.close(),
  };
}
