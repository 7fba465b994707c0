// The http-01 answers (RFC 8555 §8.3), served by every node on a plain-HTTP port of its own configuration
// (--acme-http-port; the ACME server connects to port 80 of the name, so that is the usual value, or a port a
// redirect or load balancer forwards 80 to). GET /.well-known/acme-challenge/<token> answers the key
// authorization the leader put in the store for that token; anything else is 404. Nothing else is served.
import http from 'node:http';
import type { Logger } from 'pino';
import type { ClusterStore } from '../store/cluster-store.js';
import { readHttpChallenge } from '../store/acme-records.js';

const PREFIX = '/.well-known/acme-challenge/';
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export interface HttpChallengeServer {
  port: number;
  close(): Promise<void>;
}

export async function startHttpChallengeServer(deps: { store: ClusterStore; address: string; port: number; log: Logger }): Promise<HttpChallengeServer> {
  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    const token = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : '';
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !TOKEN.test(token)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    readHttpChallenge(deps.store, token).then(
      (answer) => {
        if (answer === undefined) response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        else response.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
      },
      (error: unknown) => {
        deps.log.warn({ err: error }, 'acme http-01: could not read the challenge answer from the store');
        response.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable\n');
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: deps.address, port: deps.port }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : deps.port;
  deps.log.info({ port }, 'acme http-01 listener ready');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
