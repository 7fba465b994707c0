// The operator commands' HTTPS client of the REST API: connection settings from the environment, one JSON
// request helper, and the two ways a command fails (CliUsageError → exit 2, CliFailure → exit 1), with the
// API's error body rendered as `HTTP <status> <error_code>: <description>`.
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { ProgressStream } from './progress.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line cannot be understood: nothing was sent (exit 2). */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** The request failed: an API error, an unreachable server, an unreadable file (exit 1). */
export class CliFailure extends Error {
  override name = 'CliFailure';
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Where long operations show progress (src/cli/progress.ts): stderr, shown only when it is a terminal. */
  progress?: ProgressStream;
  /** stdout is a terminal (status colours). */
  outIsTTY?: () => boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  progress: process.stderr,
  outIsTTY: () => process.stdout.isTTY === true,
};

export interface ApiConnection {
  url: URL;
  /** `user:password`, or undefined to send no Authorization header (no user, or a client certificate). */
  auth: string | undefined;
  /** PEM to trust instead of the system store (CERTPLANE_CACERT); undefined = the system trust store. */
  ca: string | undefined;
  /** The cluster's own api certificate from the node's data dir (certs/api_cert.pem): trusted when presented exactly. */
  pinned: string | undefined;
  /** --insecure: the server's certificate is not checked (a warning was printed). */
  insecure: boolean;
  /** Client certificate login (CERTPLANE_CERT / CERTPLANE_KEY), PEM. */
  clientCert?: { cert: string; key: string } | undefined;
  timeoutMs: number;
}

export interface ConnectionOptions {
  /** --insecure was given. */
  insecure?: boolean;
  /** --data-dir (else CERTPLANE_DATA_DIR): a node's data dir whose api certificate is trusted. */
  dataDir?: string | undefined;
  io?: CliIo;
}

export async function connectionFromEnv(env: NodeJS.ProcessEnv, options: ConnectionOptions = {}): Promise<ApiConnection> {
  let url: URL;
  try {
    url = new URL(env.CERTPLANE_URL ?? 'https://127.0.0.1:9443');
  } catch {
    throw new CliUsageError(`CERTPLANE_URL is not a URL: '${env.CERTPLANE_URL ?? ''}'`);
  }
  if ((env.CERTPLANE_CERT === undefined) !== (env.CERTPLANE_KEY === undefined)) {
    throw new CliUsageError('CERTPLANE_CERT and CERTPLANE_KEY go together (client certificate login)');
  }
  const clientCert = env.CERTPLANE_CERT === undefined || env.CERTPLANE_KEY === undefined
    ? undefined
    : { cert: await readLocalFile(env.CERTPLANE_CERT), key: await readLocalFile(env.CERTPLANE_KEY) };
  const dataDir = options.dataDir ?? (env.CERTPLANE_DATA_DIR === '' ? undefined : env.CERTPLANE_DATA_DIR);
  const insecure = options.insecure === true;
  if (insecure) {
    (options.io ?? processIo).err(`certplane: warning: --insecure: the certificate of ${url.origin} is not verified; anyone who answers there gets the credentials\n`);
  }
  return {
    url,
    // With a client certificate the certificate is the credential: no password is sent.
    auth: clientCert !== undefined || env.CERTPLANE_USER === undefined ? undefined : `${env.CERTPLANE_USER}:${env.CERTPLANE_PASSWORD ?? ''}`,
    ca: env.CERTPLANE_CACERT === undefined ? undefined : await readLocalFile(env.CERTPLANE_CACERT),
    pinned: dataDir === undefined || env.CERTPLANE_CACERT !== undefined ? undefined : await readOptionalFile(path.join(dataDir, 'certs', 'api_cert.pem')),
    insecure,
    clientCert,
    // PUT /v1/cluster/certificates may wait for every node (--apply-timeout-ms, 15 s by default).
    timeoutMs: 60_000,
  };
}

async function readOptionalFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliFailure(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The first certificate of a PEM bundle, DER, or undefined. */
function firstCertificateDer(pem: string): Buffer | undefined {
  try {
    return new X509Certificate(pem).raw;
  } catch {
    return undefined;
  }
}

/**
 * Opens the TLS connection and decides whether to talk to the server before a single byte of the request
 * (and so the password) is written: verified against the system store or CERTPLANE_CACERT (chain and host
 * name), or exactly the data dir's api certificate, or --insecure.
 */
function connectVerified(connection: ApiConnection): Promise<tls.TLSSocket> {
  const host = connection.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(connection.url.port === '' ? 443 : connection.url.port);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ...(connection.ca === undefined ? {} : { ca: connection.ca }),
      ...(connection.clientCert === undefined ? {} : connection.clientCert),
      // Decided below, with the pinned certificate as the third way to trust.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${connection.timeoutMs / 1000} s`)), connection.timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new CliFailure(`cannot reach ${connection.url.origin}: ${error.code ?? error.message}`));
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const pinned = connection.pinned === undefined ? undefined : firstCertificateDer(connection.pinned);
      const presented = socket.getPeerCertificate().raw as Buffer | undefined;
      const trusted = connection.insecure || socket.authorized || (pinned !== undefined && presented !== undefined && pinned.equals(presented));
      if (!trusted) {
        socket.destroy();
        reject(
          new CliFailure(
            `refusing to talk to ${connection.url.origin}: its certificate is not trusted (${String(socket.authorizationError)}); ` +
              'trust it with CERTPLANE_CACERT=<ca.pem>, run on the node with --data-dir/CERTPLANE_DATA_DIR, or skip the check with --insecure',
          ),
        );
        return;
      }
      resolve(socket);
    });
  });
}
export async function readLocalFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliFailure(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export interface ApiAnswer {
  status: number;
  body: string;
}

/** Sends one request; resolves with any HTTP status, rejects (CliFailure) only when no answer came. */
export async function sendRequest(connection: ApiConnection, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const target = new URL(path, connection.url);
  if (target.protocol !== 'https:') throw new CliUsageError(`CERTPLANE_URL must be https: '${connection.url.origin}'`);
  const socket = await connectVerified(connection);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (connection.auth !== undefined) headers.authorization = `Basic ${Buffer.from(connection.auth).toString('base64')}`;
    // No agent: the request goes over the socket checked above, never a connection of its own.
    const req = https.request(target, { method, headers, createConnection: () => socket }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (error) => reject(new CliFailure(`connection to ${connection.url.origin} broke: ${error.message}`)));
    });
    req.setTimeout(connection.timeoutMs, () => req.destroy(new Error(`no answer within ${connection.timeoutMs / 1000} s`)));
    req.on('error', (error: NodeJS.ErrnoException) => reject(new CliFailure(`cannot reach ${connection.url.origin}: ${error.code ?? error.message}`)));
    req.end(payload);
  });
}

/** Sends a request and returns the parsed JSON of a 2xx answer; any other status is a CliFailure with the API's error. */
export async function callApi<T = unknown>(connection: ApiConnection, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await sendRequest(connection, method, path, body);
  if (answer.status < 200 || answer.status >= 300) throw new CliFailure(describeApiError(answer));
  try {
    return (answer.body === '' ? {} : JSON.parse(answer.body)) as T;
  } catch {
    throw new CliFailure(`HTTP ${answer.status}: the answer is not JSON`);
  }
}

/** `HTTP <status> <error_code>: <description>`, plus one line per failing item of a certificate request. */
export function describeApiError(answer: ApiAnswer): string {
  let parsed: { error_code?: unknown; description?: unknown; message?: unknown; errors?: unknown } | undefined;
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || typeof parsed !== 'object' || parsed === null || typeof parsed.error_code !== 'string') {
    const text = answer.body.trim();
    return `HTTP ${answer.status}${text === '' ? '' : `: ${text.slice(0, 500)}`}`;
  }
  const description = typeof parsed.description === 'string' ? parsed.description : typeof parsed.message === 'string' ? parsed.message : '';
  const lines = [`HTTP ${answer.status} ${parsed.error_code}: ${description}`];
  if (Array.isArray(parsed.errors)) {
    for (const item of parsed.errors as Array<{ name?: unknown; error_code?: unknown; description?: unknown }>) {
      lines.push(`  ${String(item.name ?? '?')}: ${String(item.error_code ?? '?')}: ${String(item.description ?? '')}`);
    }
  }
  return lines.join('\n');
}
