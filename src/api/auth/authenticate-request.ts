// Turns a request's credentials into a Caller: HTTP Basic (email + password) for now; client-certificate
// login plugs in here too, so every HTTPS listener (REST API, UI) can share it.
import type { FastifyRequest } from 'fastify';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from './caller.js';
import { ApiError } from '../../lib/api-error.js';

export async function authenticateRequest(request: FastifyRequest, deps: ApiDeps): Promise<Caller> {
  const credentials = parseBasicAuth(request.headers.authorization);
  if (credentials === undefined) {
    throw new ApiError(401, 'unauthenticated', 'Authentication required: send HTTP Basic credentials (email and password)');
  }
  const allowExpired = request.url.split('?')[0] === '/v1/users/password';
  const user = await deps.passwords.authenticate(credentials.email, credentials.password, { allowExpired });
  return { uid: user.uid, name: user.name, email: user.email, role: user.role, auth_method: user.auth_method, via: 'basic' };
}

export function parseBasicAuth(header: string | undefined): { email: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { email: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
