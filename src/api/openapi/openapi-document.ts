// Builds the OpenAPI 3.1 document of the REST API from the route table (issue 16.6): one operation per route,
// its parameters and body from the route's TypeBox schemas (which are JSON Schema 2020-12, as OpenAPI 3.1's
// are), its permission as `x-certplane-permission`, and its error answers from the error registry.
import type { TSchema } from 'typebox';
import type { ErrorCode } from '../../lib/api-error.js';
import { CERTPLANE_VERSION } from '../../lib/version.js';
import type { ApiRoute } from '../route.js';
import { ALL_ERROR_CODES, errorCodeInfo, routeErrorCodes } from './error-codes.js';
import { GENERIC_RESPONSE, RESPONSE_COMPONENTS, RESPONSE_SCHEMAS } from './response-schemas.js';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: Json;
  security: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Json>>;
  components: Json;
  [extension: `x-${string}`]: unknown;
}

/** The schemes a caller may log in with (README "REST API", "Certificate login on the REST API", "JSON Web Tokens"). */
const SECURITY_SCHEMES = {
  basicAuth: { type: 'http', scheme: 'basic', description: 'A user’s email and password' },
  bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A token from POST /v1/users/authorize' },
  mutualTLS: {
    type: 'mutualTLS',
    description: 'A client certificate of a certificate user, when mtls_certificate_authentication is on and mtls_trusted_ca is installed',
  },
};
const ANY_LOGIN = Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: [] }));

/** Fastify's `/v1/users/:uid` → OpenAPI's `/v1/users/{uid}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** `PUT /v1/bdbs/:uid/:action` → `putBdbsByUidByAction`: unique per route because method and url are. */
export function operationId(route: Pick<ApiRoute, 'method' | 'url'>): string {
  const words = route.url
    .replace(/^\/v1\//, '')
    .split('/')
    .flatMap((segment) => (segment.startsWith(':') ? ['by', ...segment.slice(1).split(/[^A-Za-z0-9]+/)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter((word) => word !== '');
  return [route.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/** A TypeBox schema as plain JSON (TypeBox's own markers are symbols and not copied). */
function plainSchema(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

/** One parameter per property of a params or querystring object schema. */
function parameters(schema: TSchema | undefined, where: 'path' | 'query'): Json[] {
  if (schema === undefined) return [];
  const plain = plainSchema(schema);
  const properties = (plain.properties ?? {}) as Record<string, Json>;
  const required = new Set((plain.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
    // `?dry_run` and similar flags may come without a value.
    ...(where === 'query' && property.type === 'string' && property.minLength === undefined ? { allowEmptyValue: true } : {}),
  }));
}

/** Path parameters the url names but no params schema describes (a plain string each). */
function undeclaredPathParameters(route: ApiRoute, declared: Json[]): Json[] {
  const names = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  return names.filter((name) => !declared.some((p) => p.name === name)).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
}

/** Error answers grouped by the HTTP status the registry gives each code. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of codes) {
    const key = String(errorCodeInfo(code).status);
    byStatus.set(key, [...(byStatus.get(key) ?? []), code]);
  }
  const keys = [...byStatus.keys()].sort((a, b) => Number(a) - Number(b));
  return Object.fromEntries(
    keys.map((key) => {
      const group = byStatus.get(key)!;
      return [
        key,
        {
          description: group.map((code) => `\`${code}\`: ${errorCodeInfo(code).description}`).join('; '),
          content: {
            'application/json': {
              schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error_code: { enum: group } } }] },
            },
          },
        },
      ];
    }),
  );
}

function operation(route: ApiRoute): Json {
  const path = parameters(route.schema.params, 'path');
  const query = parameters(route.schema.querystring, 'query');
  const allParameters = [...path, ...undeclaredPathParameters(route, path), ...query];
  const codes = routeErrorCodes(route);
  const segment = route.url.split('/')[2] ?? '';
  return {
    operationId: operationId(route),
    tags: [segment.replace(/\.json$/, '')],
    summary: `${route.method} ${openApiPath(route.url)}`,
    'x-certplane-permission': route.permission,
    ...(route.permission === 'public' ? { security: [] } : {}),
    ...(allParameters.length > 0 ? { parameters: allParameters } : {}),
    ...(route.schema.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: plainSchema(route.schema.body) } } } }),
    responses: {
      '200': { description: 'OK', content: { 'application/json': { schema: RESPONSE_SCHEMAS[`${route.method} ${route.url}`] ?? GENERIC_RESPONSE } } },
      ...errorResponses(codes),
    },
    'x-certplane-error-codes': codes,
  };
}

export function buildOpenApiDocument(routes: readonly ApiRoute[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const entry = (paths[openApiPath(route.url)] ??= {});
    entry[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'certplane REST API',
      version: CERTPLANE_VERSION,
      description:
        'The security control plane of a Redis Enterprise-compatible cluster. Each operation names the permission it ' +
        'requires (`x-certplane-permission`: a permission of the RBAC matrix, `authenticated` for any logged-in user, ' +
        '`public` for none) and every `error_code` it may answer (`x-certplane-error-codes`).',
    },
    security: ANY_LOGIN,
    paths,
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: {
        Error: {
          type: 'object',
          required: ['error_code', 'description', 'message'],
          properties: {
            error_code: { $ref: '#/components/schemas/ErrorCode' },
            description: { type: 'string' },
            message: { type: 'string' },
            errors: {
              type: 'array',
              description: 'PUT /v1/cluster/certificates: every failing item',
              items: { type: 'object', properties: { name: { type: 'string' }, error_code: { type: 'string' }, description: { type: 'string' } } },
            },
          },
        },
        ErrorCode: { type: 'string', enum: ALL_ERROR_CODES },
        ...RESPONSE_COMPONENTS,
      },
    },
    'x-certplane-error-registry': Object.fromEntries(ALL_ERROR_CODES.map((code) => [code, errorCodeInfo(code)])),
  };
}
