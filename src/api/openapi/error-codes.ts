// What GET /v1/openapi.json says about error codes: each code's HTTP status and text, read from the one
// registry (src/lib/api-error.ts) through errorCodeInfo alone, and the codes every route shares.
import { ERROR_CODES, type ErrorCode } from '../../lib/api-error.js';
import type { ApiRoute } from '../route.js';

export interface ErrorCodeInfo {
  /** undefined while the registry carries no status for the code: the document lists it under `default`. */
  status: number | undefined;
  description: string;
}

/**
 * The registry entry of a code. Accepts the registry's entry as plain text (code → description) or as an object
 * with a status (`{ status, description }`, also `statusCode`/`text`), so the document follows the registry's shape.
 */
export function errorCodeInfo(code: ErrorCode): ErrorCodeInfo {
  const entry: unknown = ERROR_CODES[code];
  if (typeof entry === 'string') return { status: undefined, description: entry };
  const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const status = fields.status ?? fields.statusCode ?? fields.http_status;
  const description = fields.description ?? fields.text ?? fields.message;
  return {
    status: typeof status === 'number' ? status : undefined,
    description: typeof description === 'string' ? description : code,
  };
}

export const ALL_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** Any request can fail on the store or unexpectedly. */
const ALWAYS: readonly ErrorCode[] = ['store_unavailable', 'internal_error'];
/** What authenticateRequest answers (Basic, Bearer, client certificate). */
const AUTHENTICATION: readonly ErrorCode[] = [
  'unauthenticated',
  'password_expired',
  'user_locked',
  'invalid_token',
  'ambiguous_credentials',
  'certificate_not_trusted',
  'certificate_not_authorized',
  'unknown_certificate_user',
];
/** What the JSON body parser answers before the route sees the body. */
const BODY: readonly ErrorCode[] = ['payload_too_large', 'unsupported_media_type'];

/** Every code a route can answer: its own list plus those its permission, schema and body imply. */
export function routeErrorCodes(route: ApiRoute): ErrorCode[] {
  const { body, params, querystring } = route.schema;
  const implied: ErrorCode[] = [
    ...(body !== undefined || params !== undefined || querystring !== undefined ? (['invalid_schema'] as const) : []),
    ...(route.permission === 'public' ? [] : AUTHENTICATION),
    ...(route.permission === 'public' || route.permission === 'authenticated' ? [] : (['insufficient_permissions'] as const)),
    ...(body !== undefined ? BODY : []),
    ...ALWAYS,
  ];
  const codes = new Set<ErrorCode>([...(route.errors ?? []), ...implied]);
  return ALL_ERROR_CODES.filter((code) => codes.has(code));
}
