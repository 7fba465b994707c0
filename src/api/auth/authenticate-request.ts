// Turns a request's credentials into a Caller: a client certificate (when the cluster has certificate
// authentication on and the client presented one), a JSON Web Token (Authorization: Bearer) or HTTP Basic
// (email + password). Never a certificate and a header at once.
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from './caller.js';
import { ApiError } from '../../lib/api-error.js';
import type { UserRecord } from '../../domain/users.js';
import { parseBearerToken } from './jwt-authenticator.js';

export async function authenticateRequest(request: FastifyRequest, deps: ApiDeps): Promise<Caller> {
  const cluster = deps.settings.current();
  const header = request.headers.authorization;
  const peer = cluster?.mtls_certificate_authentication === true ? deps.certificates.peerOf(request.raw.socket as TLSSocket) : null;
  if (peer !== null) {
    if (header !== undefined) {
      throw new ApiError('ambiguous_credentials', 'Send either a client certificate or a password, never both');
    }
    try {
      return toCaller(await deps.certificates.authenticate(peer, cluster), 'certificate');
    } catch (error) {
      await deps.loginRefusals?.certificateRefused(peer.subjectLine, request.ip, error);
      throw error;
    }
  }
  // An expired password still lets its owner reach the route that changes it.
  const allowExpired = request.url.split('?')[0] === '/v1/users/password';
  const token = parseBearerToken(header);
  if (token !== undefined) {
    const { user, claims } = await deps.tokens.authenticateToken(token, { allowExpired, cluster });
    return { ...toCaller(user, 'jwt'), auth_time: claims.auth_time };
  }
  const credentials = parseBasicAuth(header);
  if (credentials === undefined) {
    throw new ApiError('unauthenticated', 'Authentication required: HTTP Basic credentials (email and password), a Bearer token or a client certificate');
  }
  try {
    const user = await deps.passwords.authenticate(credentials.email, credentials.password, { allowExpired, cluster });
    return toCaller(user, 'basic');
  } catch (error) {
    await recordLockout(deps, credentials.email, request.ip, error);
    throw error;
  }
}

/** A refused password login of a user who is now locked is a lockout event in /v1/logs (rate-limited). */
export async function recordLockout(deps: ApiDeps, email: string, remoteAddress: string, error: unknown): Promise<void> {
  if (deps.loginRefusals === undefined || !(error instanceof ApiError) || error.statusCode !== 401) return;
  if (error.errorCode !== 'unauthenticated' && error.errorCode !== 'user_locked') return;
  try {
    const user = await deps.users.findByEmail(email);
    if (user !== undefined && (await deps.passwords.isLocked(user.uid))) await deps.loginRefusals.userLocked(user, remoteAddress, error.errorCode);
  } catch {
    // The login is refused either way; a store error here must not turn the 401 into something else.
  }
}

export function toCaller(user: UserRecord, via: Caller['via']): Caller {
  return { uid: user.uid, name: user.name, email: user.email, role: user.role, auth_method: user.auth_method, via };
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
