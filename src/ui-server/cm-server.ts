// The Cluster Manager UI server on the cm port (issue 13; README "Cluster Manager UI"): the UI's static files,
// its login endpoints, and the whole REST API authenticated by the UI's session cookie.
//
// Contract with the browser app (ui/, built into dist/ui):
// - HTTPS on --cm-port (8443) with the `cm` certificate, hot-reloaded; the control-plane TLS policy of the API
//   (min_control_TLS_version, ciphers); asks for an OPTIONAL client certificate (never refuses a handshake).
// - Static files from <package root>/dist/ui: index.html at `/`, others by path (no directory listing, no
//   traversal; no fallback to index.html: the app routes with `#/…`). Missing index.html: `/` says so.
//   Every response: Content-Security-Policy default-src 'self' (no inline script or style, frame-ancestors
//   'none'), X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy no-referrer.
// - POST /ui/api/login {"username": "<email>", "password": "…"} → 200 SessionBody + Set-Cookie
//   certplane_session=<random>; HttpOnly; Secure; SameSite=Strict; Path=/. Refusals: 401 {error_code,
//   description} with the API's Basic-auth lockout and messages (the same PasswordAuthenticator and counters).
// - GET /ui/api/session → 200 SessionBody for a valid cookie; else, when the connection presented a client
//   certificate that logs in as a certificate user (the REST API's CertificateAuthenticator), a new session
//   (cookie set, login_method "certificate"); else 401: unauthenticated, certificate_login_disabled,
//   certificate_not_trusted, client_certificate_expired, client_certificate_not_yet_valid,
//   certificate_not_authorized, unknown_certificate_user, user_locked, password_expired.
// - POST /ui/api/logout → 204, session deleted, cookie cleared.
// - /v1/…: the REST API's route table and RBAC, authenticated only by the session cookie (no Basic, no Bearer,
//   and no token endpoints). Every POST/PUT/PATCH/DELETE (logout too) needs `X-CSRF-Token: <csrf_token>`, and
//   a request with an Origin header must come from this origin; else 403 csrf_failed and nothing changes.
// SessionBody: {username, name, role, csrf_token, login_method: "password"|"certificate",
//   session_timeout_minutes, uid, auth_method}.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyBaseLogger } from 'fastify';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { Type, type Static } from 'typebox';
import { buildApi, type ApiLimits } from '../api/build-api.js';
import type { ApiDeps } from '../api/api-deps.js';
import type { Caller } from '../api/auth/caller.js';
import { recordLockout, toCaller } from '../api/auth/authenticate-request.js';
import { allRoutes } from '../api/routes/index.js';
import type { ApiRoute } from '../api/route.js';
import { ApiError } from '../lib/api-error.js';
import { isPasswordExpired } from '../domain/passwords.js';
import type { UserRecord } from '../domain/users.js';
import {
  clearedSessionCookie,
  cookieValue,
  csrfMatches,
  isStateChanging,
  SESSION_COOKIE,
  sessionCookie,
  type UiLoginMethod,
} from '../domain/ui-sessions.js';
import type { LiveSession, SessionMiss, UiSessions } from './ui-sessions.js';
import { NOT_BUILT_PAGE, type StaticAssets } from './static-assets.js';

/** Routes of the API port that the cm port does not serve: tokens are for API clients, the UI has its cookie. */
const NOT_ON_CM_PORT = new Set(['POST /v1/users/authorize', 'POST /v1/users/refresh_jwt']);

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export interface CmServerOptions {
  deps: ApiDeps;
  sessions: UiSessions;
  assets: StaticAssets;
  https?: SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean };
  logger?: FastifyBaseLogger;
  limits?: ApiLimits;
  routes?: ApiRoute[];
}

export interface SessionBody {
  username: string;
  name: string;
  role: string;
  csrf_token: string;
  login_method: UiLoginMethod;
  session_timeout_minutes: number;
  uid: number;
  auth_method: UserRecord['auth_method'];
}

/** The routes of the API port that the cm port serves too. */
export function cmRoutes(routes: ApiRoute[] = allRoutes): ApiRoute[] {
  return routes.filter((route) => !NOT_ON_CM_PORT.has(`${route.method} ${route.url}`));
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/';
}

/** Whether an Origin header names this server (scheme https, same host and port as the Host header). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return url.protocol === 'https:' && url.host === new URL(`https://${host}`).host;
  } catch {
    return false;
  }
}

export function buildCmServer(options: CmServerOptions): FastifyInstance {
  const { deps, sessions, assets } = options;
  const resolved = new WeakMap<FastifyRequest, LiveSession | SessionMiss>();
  const staticReplies = new WeakSet<FastifyReply>();
  const timeoutMinutes = (): number => deps.settings.current().cm_session_timeout_minutes ?? 15;

  /** The request's session (looked up once per request). */
  const sessionOf = async (request: FastifyRequest): Promise<LiveSession | SessionMiss> => {
    const known = resolved.get(request);
    if (known !== undefined) return known;
    const session = await sessions.resolve(cookieValue(request.headers.cookie, SESSION_COOKIE), timeoutMinutes());
    resolved.set(request, session);
    return session;
  };

  /** What ends or limits a live session besides its record: certificate login turned off, a lock, an expired password. */
  const checkSessionUser = async (session: LiveSession, allowExpired: boolean): Promise<void> => {
    const cluster = deps.settings.current();
    const { user } = session;
    if (user.auth_method === 'certificate' && cluster.mtls_certificate_authentication !== true) {
      await sessions.end(session);
      throw new ApiError('certificate_login_disabled', 'Certificate login (mtls_certificate_authentication) is off: the certificate user’s session has ended');
    }
    if (user.status === 'locked' || (await deps.passwords.isLocked(user.uid))) {
      throw new ApiError('user_locked', 'The account is locked after too many failed logins');
    }
    if (!allowExpired && user.auth_method === 'regular' && isPasswordExpired(user.password_issue_date, cluster.password_expiration_duration ?? 0, deps.clock.now())) {
      throw new ApiError('password_expired', 'The password has expired; change it with PUT /v1/users/password');
    }
  };

  const notLoggedIn = (miss: SessionMiss): ApiError =>
    miss === 'ended'
      ? new ApiError('unauthenticated', 'The session has ended (idle timeout, logout, or a change of the user’s password or role): log in again')
      : new ApiError('unauthenticated', 'Log in first (POST /ui/api/login, or a client certificate at GET /ui/api/session): this port accepts only the UI session cookie');

  /** The REST API's authentication on this port: the session cookie, nothing else. */
  const authenticate = async (request: FastifyRequest): Promise<Caller> => {
    const session = await sessionOf(request);
    if (typeof session === 'string') throw notLoggedIn(session);
    await checkSessionUser(session, pathOf(request) === '/v1/users/password');
    await sessions.touch(session, timeoutMinutes());
    return toCaller(session.user, 'session');
  };

  const sessionBody = (user: UserRecord, loginMethod: UiLoginMethod, csrfToken: string): SessionBody => ({
    username: user.email !== '' ? user.email : user.name,
    name: user.name,
    role: user.role,
    csrf_token: csrfToken,
    login_method: loginMethod,
    session_timeout_minutes: timeoutMinutes(),
    uid: user.uid,
    auth_method: user.auth_method,
  });

  /** Opens a fresh session (a new id at every login: a cookie planted before login is never promoted). */
  const openSession = async (request: FastifyRequest, reply: FastifyReply, user: UserRecord, loginMethod: UiLoginMethod): Promise<SessionBody> => {
    const previous = await sessionOf(request);
    if (typeof previous !== 'string') await sessions.end(previous);
    const { id, csrfToken } = await sessions.create(user, loginMethod, timeoutMinutes());
    void reply.header('set-cookie', sessionCookie(id));
    return sessionBody(user, loginMethod, csrfToken);
  };

  const app = buildApi({
    deps,
    ...(options.https === undefined ? {} : { https: options.https }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    routes: cmRoutes(options.routes),
    authenticate,
  });

  // CSRF: every state change carries the session's token; a cross-origin request is refused outright.
  app.addHook('onRequest', async (request) => {
    if (!isStateChanging(request.method)) return;
    const origin = request.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
      throw new ApiError('csrf_failed', `Cross-origin request refused (Origin ${origin.slice(0, 200)})`);
    }
    if (request.headers['sec-fetch-site'] === 'cross-site') throw new ApiError('csrf_failed', 'Cross-site request refused');
    const url = pathOf(request);
    if (url === '/ui/api/login') return;
    const session = await sessionOf(request);
    if (typeof session === 'string') {
      if (url === '/ui/api/logout') return;
      throw notLoggedIn(session);
    }
    const token = request.headers['x-csrf-token'];
    if (!csrfMatches(session.id, typeof token === 'string' ? token : undefined)) {
      throw new ApiError('csrf_failed', 'Missing or wrong X-CSRF-Token header: send the csrf_token of the login or session response');
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
    if (staticReplies.has(reply)) void reply.header('cache-control', (reply.getHeader('x-certplane-cache') as string | undefined) ?? 'no-cache');
    reply.removeHeader('x-certplane-cache');
    // A session that changed its own user (password, role) follows the change; the user's other sessions end.
    const session = resolved.get(request);
    if (session !== undefined && typeof session !== 'string' && isStateChanging(request.method) && reply.statusCode < 300 && pathOf(request).startsWith('/v1/users')) {
      try {
        await sessions.followOwnChange(session);
      } catch (error) {
        request.log.warn({ err: error }, 'could not carry the session over its user’s change');
      }
    }
    return payload;
  });

  app.post('/ui/api/login', { schema: { body: LoginBody } }, async (request, reply) => {
    const body = request.body as Static<typeof LoginBody>;
    const cluster = deps.settings.current();
    let user: UserRecord;
    try {
      user = await deps.passwords.authenticate(body.username, body.password, { allowExpired: false, cluster });
    } catch (error) {
      await recordLockout(deps, body.username, request.ip, error);
      throw error;
    }
    return openSession(request, reply, user, 'password');
  });

  app.get('/ui/api/session', async (request, reply) => {
    const session = await sessionOf(request);
    if (typeof session !== 'string') {
      await checkSessionUser(session, true);
      await sessions.touch(session, timeoutMinutes());
      return sessionBody(session.user, session.record.login_method, session.csrfToken);
    }
    if (session === 'ended') void reply.header('set-cookie', clearedSessionCookie());
    const peer = deps.certificates.peerOf(request.raw.socket as TLSSocket);
    if (peer === null) throw notLoggedIn(session);
    const cluster = deps.settings.current();
    if (cluster.mtls_certificate_authentication !== true) {
      throw new ApiError('certificate_login_disabled', 'Your browser presented a client certificate, but certificate login is off on this cluster (mtls_certificate_authentication): log in with a password');
    }
    let user: UserRecord;
    try {
      user = await deps.certificates.authenticate(peer, cluster);
    } catch (error) {
      await deps.loginRefusals?.certificateRefused(peer.subjectLine, request.ip, error);
      throw error;
    }
    return openSession(request, reply, user, 'certificate');
  });

  app.post('/ui/api/logout', async (request, reply) => {
    const session = await sessionOf(request);
    if (typeof session !== 'string') await sessions.end(session);
    return reply.code(204).header('set-cookie', clearedSessionCookie()).send();
  });

  const serveStatic = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const url = pathOf(request);
    if (url === '/v1' || url.startsWith('/v1/') || url.startsWith('/ui/api/')) {
      throw new ApiError('not_found', `No endpoint ${request.method} ${url}`);
    }
    staticReplies.add(reply);
    const file = await assets.read(url);
    if (file === undefined) {
      if (url === '/' && !assets.isBuilt()) return reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
    }
    return reply.header('x-certplane-cache', file.cacheControl).type(file.contentType).send(file.body);
  };
  app.get('/', serveStatic);
  app.get('/*', serveStatic);
  return app;
}
