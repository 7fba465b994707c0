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
  /** The database proxy drops a TLS handshake not finished within this time (slowloris). */
  proxyHandshakeTimeoutMs: number;
  /** TTL of this node's lease in the store: a node that stops renewing it is down after this long. */
  leaseTtlSeconds: number;
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
  'proxy-handshake-timeout-ms': { env: 'CERTPLANE_PROXY_HANDSHAKE_TIMEOUT_MS', default: '10000' },
  'lease-ttl-seconds': { env: 'CERTPLANE_LEASE_TTL_SECONDS', default: '10' },
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
  const address = pick('address');
  if (isIP(address) === 0) throw new ConfigError('--address must be an IP address');
  const store = pick('store');
  if (store !== 'sqlite' && !/^etcd:\/\/[^,\s]+(,[^,\s]+)*$/.test(store)) {
    throw new ConfigError('--store must be sqlite or etcd://host:port[,host:port]');
  }
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
    proxyHandshakeTimeoutMs: positive('proxy-handshake-timeout-ms'),
    leaseTtlSeconds: positive('lease-ttl-seconds'),
  };
}
