// What `certplane start` tells a person once the node is ready (issue 16.7): where the API, metrics and UI are,
// where the admin credentials are (a file path, never the password), and the next commands to try. On a
// terminal (pretty log format) it is printed as text on stdout; with JSON logs it is one log line instead, so
// stdout stays JSON lines (README "Log output").
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartFacts {
  nodeId: string;
  clusterName: string;
  /** The address the listeners bind. */
  address: string;
  apiPort: number;
  /** undefined: the metrics exporter is not running. */
  metricsPort: number | undefined;
  cmPort: number;
  /** Whether the Cluster Manager UI listens on cmPort (false: it could not start, see the log). */
  uiRunning?: boolean;
  dataDir: string;
  /** `<data-dir>/admin-credentials` when it exists (written when the admin password was generated). */
  credentialsFile: string | undefined;
  /** The admin's email when known (from the credentials file or CERTPLANE_ADMIN_EMAIL). */
  adminEmail: string | undefined;
  /** How to run the CLI from the current directory, e.g. `node bin/certplane.js`. */
  cli: string;
}

/** A host for URLs that reach the address from this machine (a wildcard bind is reached on loopback). */
function reachableHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return isIPv6(address) ? `[${address}]` : address;
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function startUrls(facts: StartFacts): { api: string; openapi: string; metrics: string | undefined; ui: string | undefined } {
  const host = reachableHost(facts.address);
  const api = `https://${host}:${facts.apiPort}`;
  return {
    api,
    openapi: `${api}/v1/openapi.json`,
    metrics: facts.metricsPort === undefined ? undefined : `https://${host}:${facts.metricsPort}/`,
    ui: facts.uiRunning === true ? `https://${host}:${facts.cmPort}/` : undefined,
  };
}

/** The text block printed on a terminal. */
export function formatStartSummary(facts: StartFacts): string {
  const urls = startUrls(facts);
  const caFile = path.join(facts.dataDir, 'certs', 'api_cert.pem');
  const email = facts.adminEmail ?? 'ADMIN_EMAIL';
  const admin =
    facts.credentialsFile !== undefined
      ? `${email}, password in ${facts.credentialsFile}`
      : `${email}, the password set with CERTPLANE_ADMIN_PASSWORD at first start`;
  const defaultUrl = urls.api === 'https://127.0.0.1:9443';
  const lines = [
    '',
    `certplane is running: node ${facts.nodeId} of cluster ${facts.clusterName}`,
    `  REST API   ${urls.api}   (OpenAPI description: ${urls.openapi})`,
    `  metrics    ${urls.metrics ?? 'not running (see the log above)'}`,
    `  UI         ${urls.ui ?? `not running (cm port ${facts.cmPort}: see the log above)`}`,
    `  admin      ${admin}`,
    `  data dir   ${facts.dataDir}`,
    'Try:',
    `  curl --cacert ${shellWord(caFile)} -u ${shellWord(email)} ${urls.api}/v1/cluster/certificates   # asks for the password`,
    `  ${defaultUrl ? '' : `CERTPLANE_URL=${urls.api} `}${facts.cli} --data-dir ${shellWord(facts.dataDir)} status`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** The same facts as fields of one JSON log line. */
export function startSummaryFields(facts: StartFacts): Record<string, unknown> {
  const urls = startUrls(facts);
  return {
    api_url: urls.api,
    openapi_url: urls.openapi,
    metrics_url: urls.metrics ?? null,
    ui_url: urls.ui ?? null,
    admin_credentials_file: facts.credentialsFile ?? null,
    data_dir: facts.dataDir,
  };
}

/** The credentials file and the admin email, read from the data dir (the email only; never the password). */
export async function readAdminHint(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ credentialsFile: string | undefined; adminEmail: string | undefined }> {
  const file = path.join(dataDir, 'admin-credentials');
  const fromEnv = env.CERTPLANE_ADMIN_EMAIL === '' ? undefined : env.CERTPLANE_ADMIN_EMAIL;
  try {
    const text = await readFile(file, 'utf8');
    return { credentialsFile: file, adminEmail: /^email=(.*)$/m.exec(text)?.[1] ?? fromEnv };
  } catch {
    return { credentialsFile: undefined, adminEmail: fromEnv };
  }
}

/** `node bin/certplane.js`, relative to the current directory when that is shorter. */
export function cliCommand(cwd: string): string {
  const bin = fileURLToPath(new URL('../../../bin/certplane.js', import.meta.url));
  const relative = path.relative(cwd, bin);
  return `node ${shellWord(relative.startsWith('..') ? bin : relative)}`;
}
