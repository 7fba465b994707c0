// Fastify's own errors (schema validation, body too large, unsupported media type, bad JSON) and unexpected
// errors answer a registry code with the registry's status, like every ApiError.
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../lib/api-error.js';
import { StoreUnavailableError } from '../store/cluster-store.js';
import { handleError } from './error-handler.js';
import { registerJsonBodyParser } from './json-body-parser.js';

async function answer(payload: string, contentType: string, url = '/'): Promise<{ status: number; code: ErrorCode }> {
  const app = Fastify();
  app.setErrorHandler(handleError);
  registerJsonBodyParser(app, 64);
  app.post('/', { schema: { body: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false } } }, async () => ({}));
  app.post('/store', async () => {
    throw new StoreUnavailableError('etcd is down');
  });
  app.post('/bug', async () => {
    throw new TypeError('a bug');
  });
  const response = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
  await app.close();
  return { status: response.statusCode, code: response.json<{ error_code: ErrorCode }>().error_code };
}

describe('handleError', () => {
  it.each([
    ['a schema mismatch', '{"n":"x"}', 'application/json', '/', 'invalid_schema'],
    ['invalid JSON', '{"n":', 'application/json', '/', 'invalid_schema'],
    ['a body over the limit', JSON.stringify({ n: 1, pad: 'x'.repeat(100) }), 'application/json', '/', 'payload_too_large'],
    ['a body that is not JSON', 'n=1', 'application/x-www-form-urlencoded', '/', 'unsupported_media_type'],
    ['an unreachable store', '{}', 'application/json', '/store', 'store_unavailable'],
    ['an unexpected error', '{}', 'application/json', '/bug', 'internal_error'],
  ] as const)('answers %s with its registry code and status', async (_label, payload, type, url, code) => {
    expect(await answer(payload, type, url)).toEqual({ status: ERROR_CODES[code].status, code });
  });
});
