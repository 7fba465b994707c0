// Wires the database part of a node: redis-server supervision, the data plane (the database proxy in its own
// process(es), src/data-plane, fed over IPC) and the reconciler that drives both from the store. startNode
// calls it once the certificates are applied (the proxy needs the `proxy` certificate) and closes it before
// the store.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/node-config.js';
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { logLineWriter, resolveLogFormat } from '../lib/logger.js';
import { RedisSecrets } from '../agent/redis-secrets.js';
import { RedisSupervisor } from '../agent/redis-supervisor.js';
import { DatabaseReconciler } from '../agent/database-reconciler.js';
import { DataPlaneSupervisor } from '../data-plane/supervisor.js';
import { DATA_PLANE_RESTARTS, DATA_PLANE_RESTARTS_HELP, type ProcessCounters } from '../metrics/process-counters.js';
import { PasswordAuthenticator } from '../api/auth/password-authenticator.js';
import { UsersRepository } from '../api/state/users-repository.js';
import { LoginRefusalLog } from '../api/auth/login-refusal-events.js';
import type { DatabaseLoginRefusal, ProxyCertificateSource } from '../proxy/database-proxy.js';
import type { ProxyStatsSnapshot } from '../proxy/proxy-stats.js';
import type { RevocationState } from '../domain/crl-revocation.js';
import { CLIENT_CERTIFICATE_REVOKED, CLIENT_CERTIFICATE_REVOKED_HELP } from '../metrics/process-counters.js';

export interface RunningDatabases {
  close(): Promise<void>;
  /** Stops the control-plane side only: the data plane and the redis-servers keep serving for the next start. */
  detach(): Promise<void>;
  /** Resolves when every data-plane process applied the last `proxy` certificate; throws if one could not. */
  settled(): Promise<void>;
  /** The data plane's connection, handshake and certificate-login counters, all processes added up (metrics). */
  stats(): Promise<ProxyStatsSnapshot>;
  /** Revocation checking for database mutual TLS (certplane CRL extension): resolves once every process has it. */
  setRevocation(state: RevocationState | null): Promise<void>;
}

export interface StartDatabasesOptions {
  config: NodeConfig;
  store: ClusterStore;
  nodeId: string;
  /** The certificates this node serves and the subscription of TLS servers to their rotations. */
  tls: ProxyCertificateSource;
  clock: Clock;
  log: Logger;
  /** The OCSP staple for the proxy certificate presented in a handshake (src/ocsp createStapleLookup). */
  ocspStaple?: (certificate: Buffer) => Buffer | undefined;
  /** Subscribes to changes of the cached OCSP response (StapleSource.onChange): staples reach the data plane at once. */
  ocspStapleChanges?: (listener: () => void) => () => void;
  /** Where refused database logins and lockouts go (/v1/logs): the node's one limiter, shared with the REST API. */
  loginRefusals?: LoginRefusalLog;
  /** Where data-plane restarts are counted (metrics). */
  counters?: ProcessCounters;
  /** Revocation checking the data plane starts with (certplane CRL extension); null/absent: off. */
  initialRevocation?: RevocationState | null;
}

/** redis-server connections beyond the proxied ones: the node's own (reconciler, admin commands, stats). */
const REDIS_RESERVED_CLIENTS = 64;

/** Data-plane processes (README "Data plane"): CERTPLANE_DATA_PLANE_PROCESSES, default 1. */
function dataPlaneProcesses(): number {
  const value = Number(process.env.CERTPLANE_DATA_PLANE_PROCESSES ?? '1');
  return Number.isInteger(value) && value >= 1 && value <= 64 ? value : 1;
}

/**
 * CERTPLANE_DATA_PLANE_PRIORITY_BOOST (README "Data plane"): nice levels the data-plane processes and the
 * redis-servers run above the node, 0-19, default 5 (another value: 5). Takes CAP_SYS_NICE; without it they keep
 * the node's priority.
 */
function dataPlanePriorityBoost(): number {
  const value = Number(process.env.CERTPLANE_DATA_PLANE_PRIORITY_BOOST ?? '5');
  return Number.isInteger(value) && value >= 0 && value <= 19 ? value : 5;
}

/** CERTPLANE_TICKET_KEY_ROTATION_SECONDS: how often the data plane's TLS session ticket keys change (0 = never). */
function ticketKeyRotationMs(): number | undefined {
  const raw = process.env.CERTPLANE_TICKET_KEY_ROTATION_SECONDS;
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
}

export async function startDatabases({ config, store, nodeId, tls, clock, log, ocspStaple, ocspStapleChanges, loginRefusals, counters, initialRevocation }: StartDatabasesOptions): Promise<RunningDatabases> {
  const redisDir = path.join(config.dataDir, 'redis');
  await mkdir(redisDir, { recursive: true, mode: 0o700 });
  const secrets = await RedisSecrets.open(redisDir);
  let reconciler: DatabaseReconciler | undefined;
  // Every data-plane process may open up to dbMaxConnections backend connections per database; the node's
  // own connections (reconciler, admin commands) come on top.
  const processes = dataPlaneProcesses();
  const priorityBoost = dataPlanePriorityBoost();
  const supervisor = new RedisSupervisor({
    redisDir,
    maxClients: config.dbMaxConnections * processes + REDIS_RESERVED_CLIENTS,
    priorityBoost,
    secrets,
    log: log.child({ part: 'redis' }),
    onRestarted: () => reconciler?.requestReconcile(),
  });
  // Password users logging in through a database are checked by the REST API's own password check (same
  // lockout counter in the store), never by redis-server.
  const users = new UsersRepository(store);
  const passwordCheck = new PasswordAuthenticator(store, users, clock);
  const refusals = loginRefusals ?? new LoginRefusalLog(store, clock, { onError: (error) => log.warn({ err: error }, 'could not record a login refusal event') });
  // A refused login through a database is an event in /v1/logs (rate-limited by the shared limiter), and a
  // user it leaves locked is a lockout event, as on the REST API. The proxy only reports; the store is touched here.
  const recordRefusal = async (refusal: DatabaseLoginRefusal): Promise<void> => {
    await refusals.databaseLoginRefused({ bdbUid: refusal.bdbUid, userName: refusal.user, userUid: refusal.userUid, remoteAddress: refusal.remoteAddress, reason: refusal.reason });
    if (refusal.userUid === undefined || (refusal.reason !== 'wrong_password' && refusal.reason !== 'locked')) return;
    if (!(await passwordCheck.isLocked(refusal.userUid))) return;
    const user = await users.get(refusal.userUid);
    if (user !== undefined) await refusals.userLocked(user, refusal.remoteAddress, refusal.reason === 'locked' ? 'user_locked' : 'unauthenticated');
  };
  counters?.declare(DATA_PLANE_RESTARTS, DATA_PLANE_RESTARTS_HELP);
  const proxy = new DataPlaneSupervisor({
    dataDir: config.dataDir,
    processes,
    priorityBoost,
    settings: {
      handshakeTimeoutMs: config.proxyHandshakeTimeoutMs,
      maxConnections: config.dbMaxConnections,
      idleTimeoutMs: config.dbIdleTimeoutSeconds * 1000,
      logLevel: config.logLevel,
    },
    certificates: tls,
    ...(ocspStaple === undefined ? {} : { ocspStaple }),
    passwords: { check: (uid, password) => passwordCheck.checkUserPassword(uid, password) },
    onLoginRefused: (refusal) => {
      recordRefusal(refusal).catch((error: unknown) => log.warn({ err: error, bdb: refusal.bdbUid }, 'could not record a refused database login'));
    },
    onRestart: () => counters?.increment(DATA_PLANE_RESTARTS, DATA_PLANE_RESTARTS_HELP),
    onRevocationRefused: () => counters?.increment(CLIENT_CERTIFICATE_REVOKED, CLIENT_CERTIFICATE_REVOKED_HELP),
    onInherited: () => reconciler?.requestReconcile(),
    ticketKeyRotationMs: ticketKeyRotationMs(),
    log: log.child({ part: 'data-plane' }),
    writeLog: logLineWriter(resolveLogFormat(config.logFormat, process.stdout.isTTY === true)),
    ...(ocspStapleChanges === undefined ? {} : { stapleChanges: ocspStapleChanges }),
  });
  if (initialRevocation !== undefined && initialRevocation !== null) {
    // Set before the processes start, so their initial state has it (the request itself is answered once they run).
    proxy.setRevocation(initialRevocation).catch((error: unknown) => log.error({ err: error }, 'a data-plane process could not apply the CRLs'));
  }
  await proxy.start();
  reconciler = new DatabaseReconciler({
    store,
    nodeId,
    address: config.address,
    supervisor,
    endpoints: proxy,
    secrets,
    clock,
    log: log.child({ part: 'databases' }),
  });
  try {
    await reconciler.start();
  } catch (error) {
    await reconciler.close();
    await proxy.close();
    await supervisor.close();
    throw error;
  }
  const running = reconciler;
  return {
    settled: () => proxy.settled(),
    stats: () => proxy.stats(),
    setRevocation: (state) => proxy.setRevocation(state),
    detach: async () => {
      await running.close();
      proxy.detach();
      supervisor.detach();
    },
    close: async () => {
      await running.close();
      await proxy.close();
      await supervisor.close();
    },
  };
}
