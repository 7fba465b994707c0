// Cluster Manager UI sessions (README "Cluster Manager UI"): the stored record, the rules that end a session
// (idle timeout, changed credentials or role), the CSRF token derived from the session id, and the cookie.
// Pure: the caller generates the random id and does the store reads and writes (src/ui-server/ui-sessions.ts).
//
// The browser holds a random 32-byte id in an HttpOnly cookie; the store keeps only SHA-256(id) as the key, so
// a leaked store gives no live cookie. The CSRF token is HMAC-SHA256(id, "csrf"): the server recomputes it from
// the cookie on each request, and the store holds neither. The record carries a fingerprint of what the user
// logs in with and their role: a password change, an auth-method or subject-line change, a role change or a
// deleted (even re-created) user no longer matches, and the session ends on its next use.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { UserRecord } from './users.js';

export const SESSION_COOKIE = 'certplane_session';
/** Random bytes of a session id (the cookie carries them base64url-encoded: 43 characters). */
export const SESSION_ID_BYTES = 32;
/** Sessions one user may hold at once; a new login beyond it ends that user's least recently used one. */
export const MAX_SESSIONS_PER_USER = 16;
/** Sessions in the whole cluster at once; a login beyond it (after idle ones are swept) is refused with 503. */
export const MAX_SESSIONS = 5000;
/** A session's last use is written back at most this often (and at least every tenth of the timeout). */
export const TOUCH_INTERVAL_MS = 60_000;

export type UiLoginMethod = 'password' | 'certificate';

/** What the store keeps per session, under keys.uiSession(sha256 of the id). */
export interface UiSessionRecord {
  uid: number;
  login_method: UiLoginMethod;
  /** sessionFingerprint(user) at login (or at the session's own credential change). */
  fingerprint: string;
  /** Unix milliseconds. */
  created_at: number;
  /** Unix milliseconds of the last use written back (see needsTouch). */
  last_seen: number;
}

/** The store key part of a session id: hex SHA-256 of the cookie value. */
export function sessionKeyOf(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The CSRF token of a session (derived from its id, so it is never stored). */
export function csrfTokenOf(id: string): string {
  return createHmac('sha256', id).update('certplane-csrf').digest('base64url');
}

/** Constant-time comparison of a presented X-CSRF-Token with the session's. */
export function csrfMatches(id: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenOf(id));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type FingerprintSource = Pick<UserRecord, 'uid' | 'role' | 'role_uids' | 'auth_method' | 'certificate_subject_line' | 'password_issue_date' | 'password_hash'>;

/** What a session depends on: credentials, auth method, subject line and role (a change of any ends it). */
export function sessionFingerprint(user: FingerprintSource): string {
  const parts = [
    String(user.uid),
    user.role,
    [...user.role_uids].sort((a, b) => a - b).join(','),
    user.auth_method,
    user.certificate_subject_line,
    user.password_issue_date,
    user.password_hash ?? '',
  ];
  return createHash('sha256').update(parts.join('\0')).digest('base64url');
}

/** The idle timeout in milliseconds: cm_session_timeout_minutes times the length of a minute (tests shorten it). */
export function idleTimeoutMs(timeoutMinutes: number, minuteMs = 60_000): number {
  return Math.max(1, timeoutMinutes) * minuteMs;
}

export function isIdleExpired(record: Pick<UiSessionRecord, 'last_seen'>, nowMs: number, timeoutMs: number): boolean {
  return nowMs - record.last_seen >= timeoutMs;
}

/** Whether this use should be written back as the session's last_seen (bounded writes: not on every request). */
export function needsTouch(record: Pick<UiSessionRecord, 'last_seen'>, nowMs: number, timeoutMs: number): boolean {
  return nowMs - record.last_seen >= Math.min(TOUCH_INTERVAL_MS, timeoutMs / 10);
}

/** A syntactically possible session id (base64url of SESSION_ID_BYTES); anything else is never looked up. */
export function isWellFormedSessionId(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** The value of one cookie in a Cookie header (the first one of that name), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 16_384) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a new session: HttpOnly, Secure, SameSite=Strict, whole site; no Max-Age (ends with the browser). */
export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; Secure; SameSite=Strict; Path=/`;
}

/** Set-Cookie that removes the session cookie. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0`;
}

/** Methods that change state and so need the CSRF token. */
export function isStateChanging(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/**
 * Which sessions a new login removes from the current set, and whether it may proceed: idle-expired ones
 * always; the user's least recently used ones beyond MAX_SESSIONS_PER_USER - 1; and when the cluster would
 * still exceed MAX_SESSIONS, the login is refused (no other user's session is ended for it).
 */
export function planNewSession(
  existing: ReadonlyArray<{ key: string; record: Pick<UiSessionRecord, 'uid' | 'last_seen'> }>,
  uid: number,
  nowMs: number,
  timeoutMs: number,
  limits: { perUser: number; total: number } = { perUser: MAX_SESSIONS_PER_USER, total: MAX_SESSIONS },
): { remove: string[]; allowed: boolean } {
  const remove = new Set(existing.filter((s) => isIdleExpired(s.record, nowMs, timeoutMs)).map((s) => s.key));
  const own = existing.filter((s) => s.record.uid === uid && !remove.has(s.key)).sort((a, b) => a.record.last_seen - b.record.last_seen);
  for (const session of own.slice(0, Math.max(0, own.length - (limits.perUser - 1)))) remove.add(session.key);
  const remaining = existing.length - remove.size;
  return { remove: [...remove], allowed: remaining < limits.total };
}
