// One endpoint = one plain object: method, url, the permission it requires, the schema that validates
// the request (and gives the handler its types), and a handler that returns the response body.
// A handler checks what the schema cannot, calls one service function (src/api/services, which owns every store
// read, write and transaction) and maps its result; src/architecture.test.ts keeps the store out of routes/.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from 'typebox';
import type { Permission } from '../domain/rbac.js';
import type { ErrorCode } from '../lib/api-error.js';
import type { ApiDeps } from './api-deps.js';
import type { Caller } from './auth/caller.js';

export interface RouteSchema {
  body?: TSchema;
  params?: TSchema;
  querystring?: TSchema;
}

type StaticOf<T> = T extends TSchema ? Static<T> : undefined;

export interface RouteContext<S extends RouteSchema> {
  body: StaticOf<S['body']>;
  params: StaticOf<S['params']>;
  query: StaticOf<S['querystring']>;
  /** The authenticated caller; routes with permission 'public' may see undefined. */
  caller: Caller;
  deps: ApiDeps;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * 'authenticated': any logged-in user (self-service endpoints such as GET /v1/users/role).
 * 'public': no authentication at all (GET /v1/bootstrap only); a test keeps that list short.
 */
export type RoutePermission = Permission | 'authenticated' | 'public';

export interface ApiRoute<S extends RouteSchema = RouteSchema> {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  url: string;
  permission: RoutePermission;
  schema: S;
  /**
   * The error codes specific to this route (GET /v1/openapi.json lists them); the codes every route can answer
   * (invalid_schema, unauthenticated, insufficient_permissions, internal_error, store_unavailable…) are added there.
   */
  errors?: readonly ErrorCode[];
  handler: (ctx: RouteContext<S>) => Promise<unknown>;
}

export function defineRoute<S extends RouteSchema>(route: ApiRoute<S>): ApiRoute<S> {
  return route;
}

/** `?dry_run` is a flag that may come without a value (RS: allowEmptyValue). */
export function isDryRun(query: unknown): boolean {
  if (typeof query !== 'object' || query === null || !('dry_run' in query)) return false;
  const value = query.dry_run;
  return value === '' || value === 'true' || value === '1' || value === true;
}
