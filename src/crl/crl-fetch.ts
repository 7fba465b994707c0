// Fetching one CRL from a distribution point over HTTP(S): bounded in time (the whole exchange, not only the
// connection) and in size (MAX_FETCHED_CRL_BYTES; a longer body is abandoned as soon as it is seen), no
// redirects followed, only a 200 accepted. HTTPS verifies the server against the system CAs.
import http from 'node:http';
import https from 'node:https';

export class CrlFetchError extends Error {
  override name = 'CrlFetchError';
}

export type CrlFetcher = (url: string, options: { timeoutMs: number; maxBytes: number }) => Promise<Buffer>;

export const fetchCrl: CrlFetcher = (url, { timeoutMs, maxBytes }) =>
  new Promise<Buffer>((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new CrlFetchError('not a valid URL'));
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
    if (client === undefined) {
      reject(new CrlFetchError(`unsupported scheme ${parsed.protocol}`));
      return;
    }
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new CrlFetchError(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const request = client.get(parsed, { headers: { accept: 'application/pkix-crl, application/x-pkcs7-crl, */*' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(new CrlFetchError(`HTTP status ${response.statusCode ?? 'unknown'}`));
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        fail(new CrlFetchError(`the CRL is ${declared} bytes, more than the ${maxBytes} accepted`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(new CrlFetchError(`the CRL is more than the ${maxBytes} bytes accepted`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      response.on('error', (error) => fail(new CrlFetchError(error.message)));
    });
    request.on('error', (error) => fail(new CrlFetchError(error.message)));
  });
