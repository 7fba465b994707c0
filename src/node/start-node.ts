// Composition root: the only place that wires the parts of one certplane node together.
// startNode(config) → { close() }; parts start in dependency order and close in reverse.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { NodeConfig } from '../config/node-config.js';
import type { ClusterStore } from '../store/cluster-store.js';
import { isSharedStore, openStore } from './open-store.js';
import { NodeRegistration, resolveNodeId, waitForStore, type NodeRemovedError } from './node-membership.js';
import { LeaderElection } from './leader-election.js';
import { ensureCluster } from './create-cluster.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { CertificateFiles } from '../agent/certificate-files.js';
import { TlsContextRegistry, type ReloadableTlsServer } from '../agent/tls-context-registry.js';
import { AppliedCertificates } from '../agent/applied-certificates.js';
import { apiHttpsOptions, keepApiTlsCurrent, type ApiTlsDeps } from '../api/api-tls.js';
import { ClusterSettingsWatcher } from '../agent/cluster-settings-watcher.js';
import { CertificateAuthenticator } from '../api/auth/certificate-authenticator.js';
import { LoginRefusalLog } from '../api/auth/login-refusal-events.js';
import { NodeAgent } from '../agent/node-agent.js';
import { KeyEncryptionKey } from '../agent/key-encryption.js';
import { startDatabases } from './start-databases.js';
import { startOcsp } from './start-ocsp.js';
import { checkExpiryWhileLeader } from './start-expiry-checks.js';
import type { OcspOperations } from '../domain/ocsp-status.js';
import { buildApi } from '../api/build-api.js';
import type { ApiDeps } from '../api/api-deps.js';
import { startCmUi } from './start-cm-ui.js';
import { UsersRepository } from '../api/state/users-repository.js';
import { PasswordAuthenticator } from '../api/auth/password-authenticator.js';
import { JwtAuthenticator } from '../api/auth/jwt-authenticator.js';
import { migrateStore } from './migrate-store.js';
import { writeFileDurably } from '../agent/atomic-file.js';
import { startMetricsExporter } from '../metrics/metrics-exporter.js';
import { ProcessCounters } from '../metrics/process-counters.js';
import { CERTIFICATE_NAMES } from '../domain/certificate-names.js';
import { controlTlsPolicy, HYBRID_KEY_EXCHANGE_GROUP } from '../domain/tls-policy.js';
import type { ProxyCertificateSource } from '../proxy/database-proxy.js';
import { negotiatedGroup, opensslKnowsGroup } from '../lib/tls-groups.js';
import type { TLSSocket } from 'node:tls';

export interface RunningNode {
  nodeId: string;
  apiPort: number;
  /** The metrics exporter's bound port; undefined when it could not start (the node runs without metrics). */
  metricsPort: number | undefined;
  /** The Cluster Manager UI's bound port; undefined when it could not start (the node runs without the UI). */
  cmPort: number | undefined;
  close(): Promise<void>;
  /** Resolves if an operator removes this node while it runs (it must then stop: it never rejoins). */
  removed: Promise<NodeRemovedError>;
  /** Makes close() leave the data plane and the redis-servers serving, for the next start to reattach (README "Data plane"). */
  keepDataPlane(): void;
}

export async function startNode(config: NodeConfig, log: Logger, clock: Clock = systemClock): Promise<RunningNode> {
  const closers: Array<() => Promise<void>> = [];
  let keepDataPlane = false;
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) {
      await closer().catch((error: unknown) => log.error({ err: error }, 'error while closing'));
    }
  };
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const store = await openStore(config, (error) => log.warn({ err: error }, 'etcd client: dropped a watch response for a watcher it no longer knows; the watch re-reads its state'));
    closers.push(() => store.close());
    // A node started while etcd is down waits for it instead of exiting.
    if (isSharedStore(config)) await waitForStore(store, log);

    const creation = await ensureCluster(store, config, clock, log);
    if (creation.generatedAdmin !== undefined) await announceAdmin(config, creation.generatedAdmin, log);
    const { jwtSecret } = await migrateStore(store, clock, log);

    const nodeId = await resolveNodeId(store, config.dataDir, isSharedStore(config));
    let announceRemoved: (error: NodeRemovedError) => void = () => undefined;
    const removed = new Promise<NodeRemovedError>((resolve) => (announceRemoved = resolve));
    const registration = new NodeRegistration({
      store, nodeId, name: config.nodeName, address: config.address, apiPort: config.apiPort,
      leaseTtlSeconds: config.leaseTtlSeconds, clock, log: log.child({ part: 'membership' }),
      onRemoved: (error) => announceRemoved(error),
    });
    await registration.start();
    closers.push(() => registration.close());

    const settings = new ClusterSettingsWatcher(store, log.child({ part: 'settings' }));
    await settings.start();
    closers.push(() => settings.close());

    // Asked once: an OpenSSL without ML-KEM (before 3.5) gets the classical groups only (README "Post-quantum key exchange").
    const hybridKeyExchange = opensslKnowsGroup(HYBRID_KEY_EXCHANGE_GROUP);
    if (!hybridKeyExchange) {
      log.warn({ openssl: process.versions.openssl }, `this OpenSSL does not know ${HYBRID_KEY_EXCHANGE_GROUP}: listeners offer classical key exchange only`);
    }

    // The agent records what it applied in `applied`; the registry rebuilds listener contexts from it.
    const applied = new AppliedCertificates();
    const tls = new TlsContextRegistry(applied);
    // What a listener outside the agent needs (metrics, database proxy): the certificate this node serves and
    // the subscription of its TLS server to rotations.
    const certificates: ProxyCertificateSource = { get: (name) => applied.get(name), register: (name, server, baseOptions) => tls.register(name, server, baseOptions) };
    // The data plane (started below) answers certificate changes asynchronously; the agent waits for it.
    let dataPlaneSettled = (): Promise<void> => Promise.resolve();
    const agent = new NodeAgent({
      store, nodeId, files: new CertificateFiles(config.dataDir), applied, tls, clock, log: log.child({ part: 'agent' }),
      keyEncryption: new KeyEncryptionKey(config.dataDir),
      settings,
      listenersSettled: () => dataPlaneSettled(),
    });
    await agent.start();
    closers.push(() => agent.close());

    const counters = new ProcessCounters();
    const metrics = await startMetricsExporter({
      counters,
      address: config.address,
      port: config.metricsPort,
      clusterName: config.clusterName,
      nodeId,
      dataDir: config.dataDir,
      certificateNames: CERTIFICATE_NAMES,
      certificates,
      clock,
      log: log.child({ part: 'metrics' }),
      tlsPolicy: () => controlTlsPolicy(settings.current(), hybridKeyExchange),
      limits: { requestTimeoutMs: config.apiRequestTimeoutMs, headersTimeoutMs: config.apiHeadersTimeoutMs, keepAliveTimeoutMs: config.apiKeepAliveTimeoutMs, maxConnections: config.metricsMaxConnections },
    });
    if (metrics !== undefined) closers.push(() => metrics.close());
    // min_control_TLS_version and control_cipher_suites apply to the metrics port too, hot.
    const unwatchMetricsTls = settings.onChange(() => tls.refresh('metrics_exporter'));
    closers.push(async () => {
      unwatchMetricsTls();
    });

    // Every node staples the cached OCSP response; only the leader polls (below).
    const ocsp = await startOcsp({ store, clock, log });
    closers.push(() => ocsp.close());

    const loginRefusals = new LoginRefusalLog(store, clock, { onError: (error) => log.warn({ err: error }, 'could not record a login refusal event') });
    const databases = await startDatabases({ config, store, nodeId, tls: certificates, clock, log, ocspStaple: ocsp.stapleFor, ocspStapleChanges: (listener) => ocsp.stapleSource.onChange(listener), loginRefusals, counters });
    closers.push(() => (keepDataPlane ? databases.detach() : databases.close()));
    dataPlaneSettled = () => databases.settled();

    const { app: api, deps: apiDeps } = await startApi(config, store, tls, { settings, certificates: applied, hybridKeyExchange }, clock, log, nodeId, ocsp.operations, jwtSecret, loginRefusals);
    closers.push(() => api.close());
    // The Cluster Manager UI on the cm port: the same API deps, cookie sessions (src/ui-server).
    const cmUi = await startCmUi({ config, deps: apiDeps, tls, tlsDeps: { settings, certificates: applied, hybridKeyExchange }, log });
    if (cmUi !== undefined) closers.push(() => cmUi.close());
    const address = api.server.address();
    const apiPort = typeof address === 'object' && address !== null ? address.port : config.apiPort;
    // Cluster-wide background work (OCSP polling, expiry checks) runs only where election.isLeader().
    const election = new LeaderElection({ store, nodeId, role: 'cluster', leaseTtlSeconds: config.leaseTtlSeconds, log: log.child({ part: 'election' }) });
    await election.start();
    closers.push(() => election.close());
    closers.push(ocsp.pollWhileLeader(election));
    closers.push(checkExpiryWhileLeader({ store, clock, log, leadership: election }));
    log.info({ node: nodeId, address: config.address, api_port: apiPort, runtime: process.version, openssl: process.versions.openssl }, 'certplane node ready');
    return { nodeId, apiPort, metricsPort: metrics?.port, cmPort: cmUi?.port, close, removed, keepDataPlane: () => (keepDataPlane = true) };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startApi(
  config: NodeConfig,
  store: ClusterStore,
  tls: TlsContextRegistry,
  apiTls: ApiTlsDeps & { settings: ClusterSettingsWatcher },
  clock: Clock,
  log: Logger,
  nodeId: string,
  ocsp: OcspOperations,
  jwtSecret: Buffer,
  loginRefusals: LoginRefusalLog,
): Promise<{ app: FastifyInstance; deps: ApiDeps }> {
  // The listener's TLS policy (certificate, cipher settings, client certificates) is the API's own: api/api-tls.ts.
  const { settings } = apiTls;
  const users = new UsersRepository(store);
  const passwords = new PasswordAuthenticator(store, users, clock);
  const deps: ApiDeps = {
    store,
    clock,
    users,
    passwords,
    tokens: new JwtAuthenticator(jwtSecret, users, passwords, clock, config.jwtMaxSessionSeconds),
    certificates: new CertificateAuthenticator(store, users, clock),
    settings,
    applyTimeoutMs: config.applyTimeoutMs,
    localNode: { uid: nodeId, address: config.address, started_at: clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z') },
    bodyLimitBytes: config.bodyLimitBytes,
    ocsp,
    loginRefusals,
  };
  const app = buildApi({
    deps,
    https: apiHttpsOptions(apiTls),
    logger: log.child({ part: 'api' }),
    limits: { requestTimeoutMs: config.apiRequestTimeoutMs, headersTimeoutMs: config.apiHeadersTimeoutMs, keepAliveTimeoutMs: config.apiKeepAliveTimeoutMs, idleTimeoutMs: config.apiIdleTimeoutMs },
  });
  // More connections than this are closed as soon as they are accepted.
  app.server.maxConnections = config.apiMaxConnections;
  // The negotiated key-exchange group of each API connection, at debug level only (no listener otherwise).
  if (log.isLevelEnabled('debug')) {
    app.server.on('secureConnection', (socket: TLSSocket) => {
      log.debug({ part: 'api', remote: socket.remoteAddress, protocol: socket.getProtocol(), group: negotiatedGroup(socket) }, 'API TLS handshake');
    });
  }
  const stopFollowing = keepApiTlsCurrent(app.server as unknown as ReloadableTlsServer, tls, apiTls);
  app.addHook('onClose', async () => {
    stopFollowing();
  });
  await app.listen({ host: config.address, port: config.apiPort });
  return { app, deps };
}

async function announceAdmin(config: NodeConfig, admin: { email: string; password: string }, log: Logger): Promise<void> {
  const file = path.join(config.dataDir, 'admin-credentials');
  await writeFileDurably(file, `email=${admin.email}\npassword=${admin.password}\n`, 0o600);
  // Printed once, on stdout and not in the structured log, so log shipping never carries it.
  process.stdout.write(`certplane: generated admin credentials (also in ${file}):\n  email: ${admin.email}\n  password: ${admin.password}\n`);
  log.info({ file }, 'admin credentials generated');
}
