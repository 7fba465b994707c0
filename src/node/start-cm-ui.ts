// Starts the Cluster Manager UI on the cm port (src/ui-server): the same API deps as the REST API (so password
// lockout counters, certificate login and RBAC are the API's), the `cm` certificate kept current by the TLS
// registry, and sessions in the cluster store. A cm port that cannot be bound (in use) is logged and the node
// runs without the UI, like the metrics exporter: the REST API stays the source of truth.
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { NodeConfig } from '../config/node-config.js';
import type { ApiDeps } from '../api/api-deps.js';
import type { ApiTlsDeps } from '../api/api-tls.js';
import type { TlsContextRegistry, ReloadableTlsServer } from '../agent/tls-context-registry.js';
import { buildCmServer } from '../ui-server/cm-server.js';
import { cmHttpsOptions, keepCmTlsCurrent } from '../ui-server/cm-tls.js';
import { UiSessions } from '../ui-server/ui-sessions.js';
import { StaticAssets } from '../ui-server/static-assets.js';

export interface RunningCmUi {
  port: number;
  close(): Promise<void>;
}

export async function startCmUi(options: { config: NodeConfig; deps: ApiDeps; tls: TlsContextRegistry; tlsDeps: ApiTlsDeps; log: Logger }): Promise<RunningCmUi | undefined> {
  const { config, deps, tls, tlsDeps } = options;
  const log = options.log.child({ part: 'ui' });
  const sessions = new UiSessions(deps.store, deps.users, deps.clock, config.cmSessionMinuteMs === undefined ? {} : { minuteMs: config.cmSessionMinuteMs });
  const assets = new StaticAssets();
  let app: FastifyInstance;
  try {
    app = buildCmServer({
      deps,
      sessions,
      assets,
      https: cmHttpsOptions(tlsDeps),
      logger: log,
      limits: { requestTimeoutMs: config.apiRequestTimeoutMs, headersTimeoutMs: config.apiHeadersTimeoutMs, keepAliveTimeoutMs: config.apiKeepAliveTimeoutMs, idleTimeoutMs: config.apiIdleTimeoutMs },
    });
  } catch (error) {
    log.warn({ err: error }, 'the Cluster Manager UI could not start; the node runs without it');
    return undefined;
  }
  app.server.maxConnections = config.apiMaxConnections;
  const stopFollowing = keepCmTlsCurrent(app.server as unknown as ReloadableTlsServer, tls, tlsDeps);
  app.addHook('onClose', async () => {
    stopFollowing();
  });
  try {
    await app.listen({ host: config.address, port: config.cmPort });
  } catch (error) {
    await app.close();
    log.warn({ err: error, port: config.cmPort }, 'the Cluster Manager UI could not listen on the cm port; the node runs without it');
    return undefined;
  }
  if (!assets.isBuilt()) log.warn({ dir: assets.dir }, 'the UI assets are not built: the cm port answers a page saying so');
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.cmPort;
  return { port, close: () => app.close() };
}
