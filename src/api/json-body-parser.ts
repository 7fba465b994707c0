// The JSON body parser of the REST API: Fastify's own (prototype-poisoning checks included), fed only with
// bodies that are UTF-8. RFC 8259 JSON is UTF-8; a request declaring another charset, or bytes that are not
// valid UTF-8, are refused with 400 instead of being decoded into replacement characters that could never
// match anything stored (a subject line, a name).
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../lib/api-error.js';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/** The charset parameter of a Content-Type header, lower-cased; undefined when absent. */
export function requestCharset(contentType: string | undefined): string | undefined {
  const match = contentType === undefined ? null : CHARSET.exec(contentType);
  return match ? (match[1] ?? '').toLowerCase() : undefined;
}

export function registerJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body: Buffer, done) => {
    const charset = requestCharset(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new ApiError('invalid_schema', `The request body must be UTF-8 JSON; charset=${charset.slice(0, 40)} is not supported`), undefined);
      return;
    }
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      done(new ApiError('invalid_schema', 'The request body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}
