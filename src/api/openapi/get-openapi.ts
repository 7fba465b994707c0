// GET /v1/openapi.json: the API describes itself (issue 16.6), without authentication, so that an operator can
// generate a client before having credentials. Built once, on first request, from the route table.
import { defineRoute, type ApiRoute } from '../route.js';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document.js';

/** routes: the table the document describes (a function, because this route is itself in that table). */
export function openApiRoute(routes: () => readonly ApiRoute[]): ApiRoute {
  let document: OpenApiDocument | undefined;
  return defineRoute({
    method: 'GET',
    url: '/v1/openapi.json',
    permission: 'public',
    schema: {},
    handler: async () => (document ??= buildOpenApiDocument(routes())),
  });
}
