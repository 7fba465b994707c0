// A small HTTPS client for the REST API tests: Basic auth, optional client certificate, raw bodies.
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface Credentials {
  email: string;
  password: string;
}

export interface ApiRequest {
  method?: string;
  path: string;
  body?: unknown;
  rawBody?: string | Buffer;
  contentType?: string;
  auth?: Credentials | null;
  cert?: string;
  key?: string;
  agent?: https.Agent;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  text: string;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

export function apiRequest(port: number, request: ApiRequest, host = '127.0.0.1'): Promise<ApiResponse> {
  const payload = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
  const headers: Record<string, string | number> = { ...request.headers };
  if (payload !== undefined) {
    headers['content-type'] = request.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  if (request.auth != null) {
    headers.authorization = `Basic ${Buffer.from(`${request.auth.email}:${request.auth.password}`).toString('base64')}`;
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port,
        path: request.path,
        method: request.method ?? 'GET',
        headers,
        rejectUnauthorized: false,
        cert: request.cert,
        key: request.key,
        agent: request.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a fresh TLS handshake and returns the SHA-256 fingerprint (colon form) of the server certificate. */
export function peerCertificate(port: number, host = '127.0.0.1'): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: undefined }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw));
    });
    socket.on('error', reject);
  });
}
