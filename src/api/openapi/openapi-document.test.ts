// The OpenAPI document (issue 16.6) is valid OpenAPI 3.1 by a maintained validator (the official schemas), and
// it describes the route table exactly: every route once, nothing extra, with its permission and error codes.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Type } from 'typebox';
import { allRoutes } from '../routes/index.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { ERROR_CODES, type ErrorCode } from '../../lib/api-error.js';
import { buildOpenApiDocument, openApiPath, operationId } from './openapi-document.js';
import { errorCodeInfo, routeErrorCodes } from './error-codes.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

type Operation = {
  operationId: string;
  'x-certplane-permission': string;
  'x-certplane-error-codes': string[];
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: { allOf?: Array<{ properties?: { error_code?: { enum: string[] } } }> } }> }>;
};

function operations(document: ReturnType<typeof buildOpenApiDocument>): Array<{ id: string; op: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op: op as unknown as Operation })),
  );
}

describe('OpenAPI document of the route table', () => {
  const document = buildOpenApiDocument(allRoutes);

  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator has teeth: a broken copy of the document fails', async () => {
    const broken = structuredClone(document) as unknown as { paths: Record<string, Record<string, { parameters?: Array<Record<string, unknown>> }>> };
    broken.paths['/v1/users/{uid}']!.get!.parameters![0]!.in = 'body';
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });

  it('has every route of the table exactly once and nothing else', () => {
    const listed = operations(document).map((o) => o.id).sort();
    const table = allRoutes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort();
    expect(listed).toEqual(table);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toContain('GET /v1/openapi.json');
  });

  it('gives each operation a unique operationId', () => {
    const ids = operations(document).map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operationId({ method: 'PUT', url: '/v1/bdbs/:uid/:action' })).toBe('putBdbsByUidByAction');
    expect(operationId({ method: 'PUT', url: '/v1/cluster/update_cert' })).toBe('putClusterUpdateCert');
  });

  it.each(allRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))('%s: permission, security, parameters and error codes', (_id, route) => {
    const op = document.paths[openApiPath(route.url)]![route.method.toLowerCase()] as unknown as Operation;
    expect(op['x-certplane-permission']).toBe(route.permission);
    if (route.permission === 'public') expect(op.security).toEqual([]);
    else expect(op.security).toBeUndefined();
    // Every template variable of the path is a required path parameter.
    for (const [, name] of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
      expect(op.parameters).toContainEqual(expect.objectContaining({ name, in: 'path', required: true }));
    }
    expect(op.requestBody !== undefined).toBe(route.schema.body !== undefined);
    const codes = op['x-certplane-error-codes'];
    for (const code of route.errors ?? []) expect(codes).toContain(code);
    expect(codes).toContain('internal_error');
    if (route.permission !== 'public') expect(codes).toContain('unauthenticated');
    if (route.permission !== 'public' && route.permission !== 'authenticated') expect(codes).toContain('insufficient_permissions');
    // Each code is in exactly one response, the one of its registry status.
    const inResponses = Object.entries(op.responses).flatMap(([status, response]) =>
      (response.content?.['application/json']?.schema.allOf?.[1]?.properties?.error_code?.enum ?? []).map((code) => [code, status] as const),
    );
    expect(inResponses.map(([code]) => code).sort()).toEqual([...codes].sort());
    for (const [code, status] of inResponses) {
      expect(status).toBe(String(errorCodeInfo(code as ErrorCode).status));
    }
  });

  it('lists only registered error codes, with the registry’s text', () => {
    const registry = document['x-certplane-error-registry'] as Record<string, { description: string }>;
    expect(Object.keys(registry).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) expect(registry[code]!.description).toBe(errorCodeInfo(code).description);
    for (const { op } of operations(document)) {
      for (const code of op['x-certplane-error-codes']) expect(Object.keys(ERROR_CODES)).toContain(code);
    }
  });

  it('keeps each route’s errors list in step with the codes its own file answers', async () => {
    const routesDir = fileURLToPath(new URL('../routes/', import.meta.url));
    const files = readdirSync(routesDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const codes = Object.keys(ERROR_CODES);
    let checked = 0;
    for (const file of files) {
      const source = readFileSync(path.join(routesDir, file), 'utf8');
      if (!source.includes('defineRoute(')) continue;
      const named = codes.filter((code) => new RegExp(`['\`]${code}['\`]`).test(source));
      const module = (await import(`../routes/${file.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
      const routes = Object.values(module).filter((value): value is ApiRoute => allRoutes.includes(value as ApiRoute));
      expect(routes.length, file).toBeGreaterThan(0);
      const declared = new Set(routes.flatMap((route) => routeErrorCodes(route)));
      expect(named.filter((code) => !declared.has(code as ErrorCode)), file).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('turns Fastify path parameters into OpenAPI templates and TypeBox schemas into parameters and bodies', () => {
    expect(openApiPath('/v1/bdbs/:uid/:action')).toBe('/v1/bdbs/{uid}/{action}');
    const route = defineRoute({
      method: 'POST',
      url: '/v1/things/:uid',
      permission: 'create_new_user',
      errors: ['not_found'],
      schema: {
        params: Type.Object({ uid: Type.String() }),
        querystring: Type.Object({ dry_run: Type.Optional(Type.String()), limit: Type.Integer() }),
        body: Type.Object({ name: Type.String({ maxLength: 10 }) }, { additionalProperties: false }),
      },
      handler: async () => ({}),
    }) as ApiRoute;
    const built = buildOpenApiDocument([route]);
    const op = built.paths['/v1/things/{uid}']!.post as unknown as Operation & { requestBody: { content: Record<string, { schema: unknown }> } };
    expect(op.parameters).toEqual([
      { name: 'uid', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'dry_run', in: 'query', required: false, schema: { type: 'string' }, allowEmptyValue: true },
      { name: 'limit', in: 'query', required: true, schema: { type: 'integer' } },
    ]);
    expect(op.requestBody.content['application/json']!.schema).toEqual({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', maxLength: 10 } },
      additionalProperties: false,
    });
    expect(routeErrorCodes(route)).toEqual(expect.arrayContaining(['not_found', 'invalid_schema', 'payload_too_large', 'insufficient_permissions']));
  });
});
