import { describe, it, expect } from 'vitest';
import Fastify from 'fastify';
import { requestCharset, registerJsonBodyParser } from './json-body-parser.js';
import { handleError } from './error-handler.js';

describe('requestCharset', () => {
  it.each([
    ['application/json', undefined],
    ['application/json; charset=utf-8', 'utf-8'],
    ['application/json;charset="UTF-8"', 'utf-8'],
    ['application/json; charset=latin1', 'latin1'],
    ['application/json; charset=', ''],
  ])('%j → %j', (header, charset) => {
    expect(requestCharset(header)).toBe(charset);
  });
});

describe('registerJsonBodyParser', () => {
  async function post(body: Buffer | string, contentType: string): Promise<{ status: number; body: unknown }> {
    const app = Fastify();
    app.setErrorHandler(handleError);
    registerJsonBodyParser(app, 1024);
    app.post('/', async (request) => ({ got: request.body }));
    const response = await app.inject({ method: 'POST', url: '/', payload: body, headers: { 'content-type': contentType } });
    await app.close();
    return { status: response.statusCode, body: response.json() };
  }

  it('parses UTF-8 JSON with or without a utf-8 charset', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF8']) {
      expect(await post('{"name":"été"}', type)).toEqual({ status: 200, body: { got: { name: 'été' } } });
    }
  });

  it('refuses bytes that are not UTF-8 with 400 invalid_schema instead of decoding them to U+FFFD', async () => {
    const latin1 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xe9]), Buffer.from('t\\u00e9"}')]);
    expect(await post(latin1, 'application/json')).toMatchObject({
      status: 400,
      body: { error_code: 'invalid_schema', description: 'The request body is not valid UTF-8' },
    });
  });

  it('refuses a charset other than UTF-8', async () => {
    expect(await post('{"a":1}', 'application/json; charset=latin1')).toMatchObject({
      status: 400,
      body: { error_code: 'invalid_schema', description: expect.stringContaining('charset=latin1 is not supported') },
    });
  });

  it('keeps prototype-poisoning protection', async () => {
    expect((await post('{"__proto__":{"x":1}}', 'application/json')).status).toBe(400);
  });
});
