// JSON Web Tokens of the REST API (digest §1.2: POST /v1/users/authorize, POST /v1/users/refresh_jwt,
// `Authorization: Bearer`). HS256 only, signed with the cluster's secret; pure (no I/O, time passed in).
//
// A token names its user (uid) and carries a fingerprint of what the user authenticates with (password hash,
// auth method, subject line, when the password was set) under the same secret. The API checks the fingerprint
// against the current user record on every request, so a password change, a switch of auth method, a deleted
// user (even one re-created under the same uid) ends every token issued before; the caller's role is always
// read from the current record, never from the token.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const JWT_DEFAULT_TTL_SECONDS = 300;
export const JWT_MAX_TTL_SECONDS = 86_400;
/** Default maximum session age: refresh_jwt never extends a token past auth_time + this (seconds). */
export const JWT_MAX_SESSION_SECONDS = 86_400;
/** Tokens longer than this are refused before any parsing (ours are ~250 characters). */
export const JWT_MAX_LENGTH = 2048;

const HEADER = base64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface JwtClaims {
  /** The user's uid, as a string (RFC 7519 `sub`). */
  sub: string;
  /** Issued at / expires at, Unix seconds. */
  iat: number;
  exp: number;
  /** Fingerprint of the user's credentials when the token was issued (userFingerprint). */
  fpr: string;
  /** Unique token id. */
  jti: string;
  /** When the user last proved their credentials (password or certificate login), Unix seconds; refresh_jwt
   *  carries it over unchanged, and no token lives past auth_time + the maximum session age. */
  auth_time: number;
}

/** What a token's validity depends on besides time: it changes when the password (or auth method) does. */
export interface FingerprintSource {
  uid: number;
  auth_method: string;
  password_hash?: string | undefined;
  certificate_subject_line: string;
  /** When the password was set (creation time for certificate users): a user re-created under the same uid
   *  does not inherit the tokens of the one deleted. */
  password_issue_date: string;
}

export function userFingerprint(secret: Buffer, user: FingerprintSource): string {
  const material = ['fpr', user.uid, user.auth_method, user.password_hash ?? '', user.certificate_subject_line, user.password_issue_date].join('\0');
  return base64url(createHmac('sha256', secret).update(material).digest()).slice(0, 32);
}

export function signJwt(secret: Buffer, claims: JwtClaims): string {
  const payload = base64url(Buffer.from(JSON.stringify(claims)));
  return `${HEADER}.${payload}.${sign(secret, `${HEADER}.${payload}`)}`;
}

export type JwtVerdict = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

/**
 * Checks form, algorithm (HS256 only: `none` and every other alg are refused), signature (constant-time) and
 * expiry. The fingerprint is checked by the caller against the current user record.
 */
export function verifyJwt(secret: Buffer, token: string, now: Date): JwtVerdict {
  if (token.length > JWT_MAX_LENGTH) return { ok: false, reason: 'the token is too long' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return { ok: false, reason: 'the token is not a signed JWT' };
  const [header, payload, signature] = parts as [string, string, string];
  const parsedHeader = parseJson(header);
  if (parsedHeader?.alg !== 'HS256' || (parsedHeader.typ !== undefined && parsedHeader.typ !== 'JWT')) {
    return { ok: false, reason: 'the token is not signed with HS256' };
  }
  const expected = Buffer.from(sign(secret, `${header}.${payload}`), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'the token signature is invalid' };
  const claims = parseJson(payload);
  if (
    claims === undefined ||
    typeof claims.sub !== 'string' || !/^[1-9][0-9]{0,9}$/.test(claims.sub) ||
    typeof claims.exp !== 'number' || typeof claims.iat !== 'number' ||
    typeof claims.fpr !== 'string' || typeof claims.jti !== 'string' ||
    typeof claims.auth_time !== 'number' || claims.auth_time > claims.iat
  ) {
    return { ok: false, reason: 'the token claims are incomplete' };
  }
  if (claims.exp * 1000 <= now.getTime()) return { ok: false, reason: 'the token has expired' };
  return { ok: true, claims: claims as unknown as JwtClaims };
}

/**
 * The claims of a new token for a user: issued now, valid for ttlSeconds but never past
 * authTime + maxSessionSeconds. authTime (Unix seconds) is when the user logged in: now for a login, the
 * presented token's auth_time for refresh_jwt.
 */
export function newClaims(
  secret: Buffer,
  user: FingerprintSource,
  now: Date,
  ttlSeconds: number,
  jti: string,
  session: { authTime?: number; maxSessionSeconds: number } = { maxSessionSeconds: JWT_MAX_SESSION_SECONDS },
): JwtClaims {
  // Whole seconds rounded up, so a token lives at least ttlSeconds (a ttl of 1 issued at .9 s still gets a full
  // second) and exp - iat is exactly the ttl asked for (unless the session's maximum age comes first).
  const iat = Math.ceil(now.getTime() / 1000);
  const authTime = Math.min(session.authTime ?? iat, iat);
  const exp = Math.min(iat + ttlSeconds, authTime + session.maxSessionSeconds);
  return { sub: String(user.uid), iat, exp, fpr: userFingerprint(secret, user), jti, auth_time: authTime };
}

/** Fingerprints compared in constant time. */
export function fingerprintMatches(secret: Buffer, user: FingerprintSource, fpr: string): boolean {
  const expected = Buffer.from(userFingerprint(secret, user));
  const given = Buffer.from(fpr);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sign(secret: Buffer, input: string): string {
  return base64url(createHmac('sha256', secret).update(input).digest());
}

function base64url(buffer: Buffer): string {
  return buffer.toString('base64url');
}

function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
