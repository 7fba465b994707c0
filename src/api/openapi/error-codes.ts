// What GET /v1/openapi.json says about error codes: each code's HTTP status and text, read from the one
// registry (src/lib/api-error.ts) through errorCodeInfo alone, and the codes every route shares.
import { ERROR_CODES, type ErrorCode } from '../../lib/api-error.js';
import type { ApiRoute } from '../route.js';

export interface ErrorCodeInfo {
  status: number;
  description: string;
}

/** The registry entry of a code, as the document states it: the one place that reads the registry's shape. */
export function errorCodeInfo(code: ErrorCode): ErrorCodeInfo {
  const entry = ERROR_CODES[code];
  return { status: entry.status, description: entry.text };
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
  'client_certificate_expired',
  'client_certificate_not_yet_valid',
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
