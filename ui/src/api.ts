// The one way the pages talk to the node: same-origin requests with the session cookie, the CSRF token on every
// change, and the API's `{error_code, description}` errors (plus per-item `errors` of certificate PUTs) as ApiError.

export interface ItemError {
  name: string;
  error_code: string;
  description: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
    readonly items: readonly ItemError[] = [],
  ) {
    super(description);
  }
}

export interface Session {
  username: string;
  name: string;
  role: string;
  csrf_token: string;
  login_method: string;
  session_timeout_minutes: number;
}

let csrfToken = '';
let onUnauthenticated: ((reason: string) => void) | undefined;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when a /v1 request answers 401: the session ended (idle timeout, logout elsewhere, password change). */
export function whenSessionEnds(handler: (reason: string) => void): void {
  onUnauthenticated = handler;
}

function errorOf(status: number, body: unknown): ApiError {
  const object = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof object.error_code === 'string' ? object.error_code : `http_${status}`;
  const description = typeof object.description === 'string' ? object.description : `The node answered HTTP ${status}`;
  const items = Array.isArray(object.errors)
    ? (object.errors as unknown[]).filter((e): e is ItemError => typeof e === 'object' && e !== null && typeof (e as ItemError).name === 'string')
    : [];
  return new ApiError(status, code, description, items);
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface RequestOptions {
  body?: unknown;
  /** Upload progress 0..1 (the request goes through XMLHttpRequest, which reports it). */
  onProgress?: (fraction: number) => void;
}

/** Sends one request; resolves with the parsed JSON body (undefined for 204), rejects with ApiError. */
export function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (method !== 'GET' && method !== 'HEAD') xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    let payload: string | null = null;
    if (options.body !== undefined) {
      xhr.setRequestHeader('Content-Type', 'application/json');
      payload = JSON.stringify(options.body);
    }
    const progress = options.onProgress;
    if (progress) {
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable && event.total > 0) progress(event.loaded / event.total);
      });
      xhr.upload.addEventListener('load', () => progress(1));
    }
    xhr.addEventListener('load', () => {
      const body = parseBody(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as T);
        return;
      }
      const error = errorOf(xhr.status, body);
      if (xhr.status === 401 && path.startsWith('/v1/') && onUnauthenticated) onUnauthenticated(error.message);
      reject(error);
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network_error', 'The node could not be reached')));
    xhr.addEventListener('timeout', () => reject(new ApiError(0, 'timeout', 'The node did not answer in time')));
    xhr.timeout = 120_000;
    xhr.send(payload);
  });
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);
export const put = <T>(path: string, body: unknown, onProgress?: (fraction: number) => void): Promise<T> =>
  request<T>('PUT', path, { body, ...(onProgress ? { onProgress } : {}) });
export const post = <T>(path: string, body?: unknown): Promise<T> => request<T>('POST', path, body === undefined ? {} : { body });
export const del = <T>(path: string): Promise<T> => request<T>('DELETE', path);

/** GET that answers undefined for 404 (an endpoint this node does not have yet). */
export async function getOptional<T>(path: string): Promise<T | undefined> {
  try {
    return await get<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export function describe(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
