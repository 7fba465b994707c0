// Wires ACME renewal (issue 15.2, src/acme): on every node the http-01 listener (when --acme-http-port is set),
// and on the leader only the renewer, which installs through the certificates service like an upload.
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import type { NodeConfig } from '../config/node-config.js';
import type { Caller } from '../api/auth/caller.js';
import { installCertificates } from '../api/services/certificates.js';
import { ApiError } from '../lib/api-error.js';
import { AcmeRenewer } from '../acme/acme-renewer.js';
import { commandDnsHook } from '../acme/dns-hook.js';
import { startHttpChallengeServer } from '../acme/http-challenge-server.js';
import { runWhileLeader, type Leadership } from './run-while-leader.js';

/** Who the audit events of an ACME renewal name (uid 0: no user). */
const ACME_CALLER: Caller = { uid: 0, name: 'ACME renewal', email: 'acme@certplane', role: 'admin', auth_method: 'regular', via: 'basic' };

const DNS_HOOK_TIMEOUT_MS = 120_000;

/** Starts the http-01 listener (if configured) and the leader-only renewer; returns the closer. */
export async function startAcme({ config, store, clock, log, leadership }: { config: NodeConfig; store: ClusterStore; clock: Clock; log: Logger; leadership: Leadership }): Promise<() => Promise<void>> {
  const acmeLog = log.child({ part: 'acme' });
  const listener = config.acmeHttpPort === undefined ? undefined : await startHttpChallengeServer({ store, address: config.address, port: config.acmeHttpPort, log: acmeLog });
  const install = async (name: string, certificate: string, key: string): Promise<void> => {
    try {
      await installCertificates({ store, clock, applyTimeoutMs: config.applyTimeoutMs }, ACME_CALLER, [{ name, certificate, key }], acmeLog, { allowIdentityChange: true, source: 'acme' });
    } catch (error) {
      // Stored, and members that are down apply it when they are back: the renewal itself succeeded.
      if (error instanceof ApiError && error.errorCode === 'nodes_not_updated') {
        acmeLog.warn({ certificate: name, err: error }, 'ACME certificate stored; not every node has applied it yet');
        return;
      }
      throw error;
    }
  };
  const dnsHook = config.acmeDnsHook === undefined ? undefined : commandDnsHook(config.acmeDnsHook, DNS_HOOK_TIMEOUT_MS);
  const stopRenewer = runWhileLeader(
    leadership,
    (fence) => new AcmeRenewer({ store, clock, log: acmeLog, fence, install, dnsHook, retryBaseMs: config.acmeRetryMs ?? 60_000 }),
    acmeLog,
    'ACME renewer',
  );
  return async () => {
    await stopRenewer();
    await listener?.close();
  };
}
