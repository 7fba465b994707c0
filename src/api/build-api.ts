// Builds the REST API (Fastify over HTTPS) without listening: authentication, RBAC on every route,
// schema validation, and the one error handler. src/node starts it.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { SecureContextOptions } from 'node:tls';
import type { ApiDeps } from './api-deps.js';
import type { ApiRoute, RouteSchema } from './route.js';
import type { Caller } from './auth/caller.js';
import { authenticateRequest } from './auth/authenticate-request.js';
import { hasPermission } from '../domain/rbac.js';
import { ApiError } from '../lib/api-error.js';
import { handleError } from './error-handler.js';
import { allRoutes } from './routes/index.js';
import { registerJsonBodyParser } from './json-body-parser.js';

export interface BuildApiOptions {
  deps: ApiDeps;
  /** TLS options of the listener (cert, key, minVersion…); omit for plain HTTP in unit tests. */
  https?: SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean };
  /** The process logger (src/lib/logger.ts); none in unit tests. */
  logger?: FastifyBaseLogger;
  routes?: ApiRoute[];
  /** Timeouts of the listener (README "Limits and timeouts"); Fastify's defaults when omitted (unit tests). */
  limits?: ApiLimits;
  /** How a non-public route authenticates its caller; authenticateRequest (Basic, Bearer, certificate) unless
   *  given. The cm port (src/ui-server) passes its session-cookie authentication. */
  authenticate?: (request: FastifyRequest, deps: ApiDeps) => Promise<Caller>;
}

export interface ApiLimits {
  /** Whole request (headers and body) received within this time, else 408 and the connection closes. */
  requestTimeoutMs: number;
  /** TLS handshake and request headers done within this time after connecting. */
  headersTimeoutMs: number;
  /** Idle keep-alive connection closed after this time. */
  keepAliveTimeoutMs: number;
  /** A connection without any traffic for this long is closed. */
  idleTimeoutMs: number;
}

/** Node's options for the limits: headersTimeout and the check interval go to the server's constructor. */
function limitOptions(limits: ApiLimits | undefined, https: BuildApiOptions['https']): Record<string, unknown> {
  if (limits === undefined) return https === undefined ? {} : { https };
  // Node checks request and headers timeouts every connectionsCheckingInterval (30 s by default).
  const interval = Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
  const serverOptions = { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: interval, handshakeTimeout: limits.headersTimeoutMs };
  return {
    ...(https === undefined ? { http: serverOptions } : { https: { ...https, ...serverOptions } }),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
  };
}

const callers = new WeakMap<FastifyRequest, Caller>();

export function buildApi({ deps, https, logger, routes = allRoutes, limits, authenticate = authenticateRequest }: BuildApiOptions): FastifyInstance {
  const app = Fastify({
    ...limitOptions(limits, https),
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    bodyLimit: deps.bodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    // One access-log line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: false,
  }) as unknown as FastifyInstance;

  app.setErrorHandler(handleError);
  registerJsonBodyParser(app, deps.bodyLimitBytes);
  app.setNotFoundHandler((request, reply) => {
    handleError(new ApiError('not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}`), request, reply);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, user: callers.get(request)?.uid },
      'request',
    );
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  for (const route of routes) registerRoute(app, deps, route, authenticate);
  return app;
}

function registerRoute(
  app: FastifyInstance,
  deps: ApiDeps,
  route: ApiRoute<RouteSchema>,
  authenticate: NonNullable<BuildApiOptions['authenticate']> = authenticateRequest,
): void {
  app.route({
    method: route.method,
    url: route.url,
    schema: route.schema,
    onRequest: async (request) => {
      if (route.permission === 'public') return;
      const caller = await authenticate(request, deps);
      if (route.permission !== 'authenticated' && !hasPermission(caller.role, route.permission)) {
        throw new ApiError('insufficient_permissions', `This action requires the '${route.permission}' permission`);
      }
      callers.set(request, caller);
    },
    handler: async (request, reply) => {
      const result = await route.handler({
        body: request.body,
        params: request.params,
        query: request.query,
        caller: callers.get(request) as Caller,
        deps,
        request,
        reply,
      });
      return result ?? '';
    },
  });
}
