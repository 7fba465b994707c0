// The operator commands' HTTPS client of the REST API: connection settings from the environment, one JSON
// request helper, and the two ways a command fails (CliUsageError → exit 2, CliFailure → exit 1), with the
// API's error body rendered as `HTTP <status> <error_code>: <description>`.
import { readFile } from 'node:fs/promises';
import https from 'node:https';

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
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export interface ApiConnection {
  url: URL;
  /** `user:password`, or undefined to send no Authorization header. */
  auth: string | undefined;
  /** PEM to trust; undefined accepts any server certificate (the cluster's api certificate is self-signed at first, like curl -k). */
  ca: string | undefined;
  timeoutMs: number;
}

export async function connectionFromEnv(env: NodeJS.ProcessEnv): Promise<ApiConnection> {
  let url: URL;
  try {
    url = new URL(env.CERTPLANE_URL ?? 'https://127.0.0.1:9443');
  } catch {
    throw new CliUsageError(`CERTPLANE_URL is not a URL: '${env.CERTPLANE_URL ?? ''}'`);
  }
  return {
    url,
    auth: env.CERTPLANE_USER === undefined ? undefined : `${env.CERTPLANE_USER}:${env.CERTPLANE_PASSWORD ?? ''}`,
    ca: env.CERTPLANE_CACERT === undefined ? undefined : await readLocalFile(env.CERTPLANE_CACERT),
    // PUT /v1/cluster/certificates may wait for every node (--apply-timeout-ms, 15 s by default).
    timeoutMs: 60_000,
  };
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
export function sendRequest(connection: ApiConnection, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const target = new URL(path, connection.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (connection.auth !== undefined) headers.authorization = `Basic ${Buffer.from(connection.auth).toString('base64')}`;
    const req = https.request(target, { method, headers, ca: connection.ca, rejectUnauthorized: connection.ca !== undefined, agent: false }, (res) => {
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
