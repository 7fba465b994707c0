// Node configuration: defaults < CERTPLANE_* environment < command-line flags. Pure: reads nothing itself.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import path from 'node:path';

export interface NodeConfig {
  dataDir: string;
  address: string;
  apiPort: number;
  cmPort: number;
  metricsPort: number;
  /** 'sqlite' (embedded, the default) or an etcd URL list `etcd://host:port[,host:port]`. */
  store: string;
  clusterName: string;
  nodeName: string;
  /** How long a certificate change waits for every node to confirm before answering 409. */
  applyTimeoutMs: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Request body limit of the REST API. */
  bodyLimitBytes: number;
  logLevel: string;
  /** `auto` (readable lines on a terminal, JSON lines otherwise), `json` or `pretty` (README "Log output"). */
  logFormat: 'auto' | 'json' | 'pretty';
  /** The database proxy drops a TLS handshake not finished within this time (slowloris). */
  proxyHandshakeTimeoutMs: number;
  /** TTL of this node's lease in the store: a node that stops renewing it is down after this long. */
  leaseTtlSeconds: number;
  /** REST API and metrics: a whole request (headers and body) must arrive within this time (a slow body is cut). */
  apiRequestTimeoutMs: number;
  /** REST API and metrics: TLS handshake and request headers must be done within this time after connecting. */
  apiHeadersTimeoutMs: number;
  /** REST API and metrics: an idle keep-alive connection between requests is closed after this time. */
  apiKeepAliveTimeoutMs: number;
  /** REST API: a connection with no traffic at all for this long is closed (also while a handler runs). */
  apiIdleTimeoutMs: number;
  /** REST API: open connections at most; more are refused (closed at once). */
  apiMaxConnections: number;
  /** Metrics exporter: open connections at most. */
  metricsMaxConnections: number;
  /** Each database endpoint: open client connections at most; more are refused. */
  dbMaxConnections: number;
  /** Database endpoints: an idle client connection is closed after this many seconds; 0 = never (redis `timeout 0`). */
  dbIdleTimeoutSeconds: number;
  /** Maximum age of a JWT session (auth_time to exp, across refresh_jwt), seconds. */
  jwtMaxSessionSeconds: number;
  /** Test only (CERTPLANE_TEST_CM_SESSION_MINUTE_MS): the length of a minute of cm_session_timeout_minutes, so that
   *  an integration test sees an idle session end in seconds (the setting's minimum is 1 minute). */
  cmSessionMinuteMs?: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const FLAGS = {
  'data-dir': { env: 'CERTPLANE_DATA_DIR', default: './certplane-data' },
  address: { env: 'CERTPLANE_ADDRESS', default: '127.0.0.1' },
  'api-port': { env: 'CERTPLANE_API_PORT', default: '9443' },
  'cm-port': { env: 'CERTPLANE_CM_PORT', default: '8443' },
  'metrics-port': { env: 'CERTPLANE_METRICS_PORT', default: '8070' },
  store: { env: 'CERTPLANE_STORE', default: 'sqlite' },
  'cluster-name': { env: 'CERTPLANE_CLUSTER_NAME', default: 'cluster.local' },
  'node-name': { env: 'CERTPLANE_NODE_NAME', default: 'node-1' },
  'apply-timeout-ms': { env: 'CERTPLANE_APPLY_TIMEOUT_MS', default: '15000' },
  'body-limit-bytes': { env: 'CERTPLANE_BODY_LIMIT_BYTES', default: String(1024 * 1024) },
  'log-level': { env: 'CERTPLANE_LOG_LEVEL', default: 'info' },
  'log-format': { env: 'CERTPLANE_LOG_FORMAT', default: 'auto' },
  'proxy-handshake-timeout-ms': { env: 'CERTPLANE_PROXY_HANDSHAKE_TIMEOUT_MS', default: '10000' },
  'lease-ttl-seconds': { env: 'CERTPLANE_LEASE_TTL_SECONDS', default: '10' },
  'api-request-timeout-ms': { env: 'CERTPLANE_API_REQUEST_TIMEOUT_MS', default: '30000' },
  'api-headers-timeout-ms': { env: 'CERTPLANE_API_HEADERS_TIMEOUT_MS', default: '10000' },
  'api-keep-alive-timeout-ms': { env: 'CERTPLANE_API_KEEP_ALIVE_TIMEOUT_MS', default: '5000' },
  'api-idle-timeout-ms': { env: 'CERTPLANE_API_IDLE_TIMEOUT_MS', default: '120000' },
  'api-max-connections': { env: 'CERTPLANE_API_MAX_CONNECTIONS', default: '1024' },
  'metrics-max-connections': { env: 'CERTPLANE_METRICS_MAX_CONNECTIONS', default: '64' },
  'db-max-connections': { env: 'CERTPLANE_DB_MAX_CONNECTIONS', default: '10000' },
  'db-idle-timeout-seconds': { env: 'CERTPLANE_DB_IDLE_TIMEOUT_SECONDS', default: '0' },
  'jwt-max-session-seconds': { env: 'CERTPLANE_JWT_MAX_SESSION_SECONDS', default: '86400' },
} as const;

type FlagName = keyof typeof FLAGS;

export function loadNodeConfig({ argv, env }: { argv: string[]; env: NodeJS.ProcessEnv }): NodeConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
    strict: true,
    allowPositionals: false,
  });
  const pick = (name: FlagName): string => {
    const flag = values[name];
    if (typeof flag === 'string') return flag;
    return env[FLAGS[name].env] ?? FLAGS[name].default;
  };
  const port = (name: FlagName): number => {
    const value = Number(pick(name));
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(`--${name} must be a port number`);
    return value;
  };
  const positive = (name: FlagName): number => {
    const value = Number(pick(name));
    if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`--${name} must be a positive integer`);
    return value;
  };
  const nonNegative = (name: FlagName): number => {
    const value = Number(pick(name));
    if (!Number.isInteger(value) || value < 0) throw new ConfigError(`--${name} must be 0 or a positive integer`);
    return value;
  };
  const apiRequestTimeoutMs = positive('api-request-timeout-ms');
  const apiHeadersTimeoutMs = positive('api-headers-timeout-ms');
  if (apiHeadersTimeoutMs > apiRequestTimeoutMs) throw new ConfigError('--api-headers-timeout-ms must not exceed --api-request-timeout-ms');
  // A certificate change waits up to --apply-timeout-ms with a silent connection: the idle timeout must outlast it.
  if (positive('api-idle-timeout-ms') <= positive('apply-timeout-ms')) throw new ConfigError('--api-idle-timeout-ms must exceed --apply-timeout-ms');
  const address = pick('address');
  if (isIP(address) === 0) throw new ConfigError('--address must be an IP address');
  const store = pick('store');
  if (store !== 'sqlite' && !/^etcd:\/\/[^,\s]+(,[^,\s]+)*$/.test(store)) {
    throw new ConfigError('--store must be sqlite or etcd://host:port[,host:port]');
  }
  const logFormat = pick('log-format');
  if (logFormat !== 'auto' && logFormat !== 'json' && logFormat !== 'pretty') throw new ConfigError('--log-format must be auto, json or pretty');
  const clusterName = pick('cluster-name');
  if (!/^(?=.{1,64}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(clusterName)) {
    throw new ConfigError('--cluster-name must be an FQDN of at most 64 characters');
  }
  return {
    dataDir: path.resolve(pick('data-dir')),
    address,
    apiPort: port('api-port'),
    cmPort: port('cm-port'),
    metricsPort: port('metrics-port'),
    store,
    clusterName,
    nodeName: pick('node-name'),
    applyTimeoutMs: positive('apply-timeout-ms'),
    adminEmail: env.CERTPLANE_ADMIN_EMAIL,
    adminPassword: env.CERTPLANE_ADMIN_PASSWORD,
    bodyLimitBytes: positive('body-limit-bytes'),
    logLevel: pick('log-level'),
    logFormat,
    proxyHandshakeTimeoutMs: positive('proxy-handshake-timeout-ms'),
    leaseTtlSeconds: positive('lease-ttl-seconds'),
    apiRequestTimeoutMs,
    apiHeadersTimeoutMs,
    apiKeepAliveTimeoutMs: positive('api-keep-alive-timeout-ms'),
    apiIdleTimeoutMs: positive('api-idle-timeout-ms'),
    apiMaxConnections: positive('api-max-connections'),
    metricsMaxConnections: positive('metrics-max-connections'),
    dbMaxConnections: positive('db-max-connections'),
    dbIdleTimeoutSeconds: nonNegative('db-idle-timeout-seconds'),
    jwtMaxSessionSeconds: positive('jwt-max-session-seconds'),
    ...testMinute(env.CERTPLANE_TEST_CM_SESSION_MINUTE_MS),
  };
}

/** CERTPLANE_TEST_CM_SESSION_MINUTE_MS (test only): 100-60000 ms; unset in production. */
function testMinute(value: string | undefined): { cmSessionMinuteMs?: number } {
  if (value === undefined || value === '') return {};
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 60_000) throw new ConfigError('CERTPLANE_TEST_CM_SESSION_MINUTE_MS must be 100-60000');
  return { cmSessionMinuteMs: ms };
}
