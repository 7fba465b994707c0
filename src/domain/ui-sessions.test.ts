import { describe, expect, it } from 'vitest';
import {
  cookieValue,
  csrfMatches,
  csrfTokenOf,
  isIdleExpired,
  isStateChanging,
  isWellFormedSessionId,
  needsTouch,
  planNewSession,
  sessionCookie,
  sessionFingerprint,
  sessionKeyOf,
} from './ui-sessions.js';

const user = {
  uid: 7,
  role: 'admin' as const,
  role_uids: [2, 1],
  auth_method: 'regular' as const,
  certificate_subject_line: '',
  password_issue_date: '2026-01-01T00:00:00Z',
  password_hash: 'scrypt$abc',
};
const ID = 'a'.repeat(43);

describe('UI sessions', () => {
  it('stores only a hash of the id, and derives the CSRF token from the id', () => {
    expect(sessionKeyOf(ID)).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionKeyOf(ID)).not.toContain(ID);
    expect(csrfTokenOf(ID)).not.toBe(csrfTokenOf('b'.repeat(43)));
    expect(csrfMatches(ID, csrfTokenOf(ID))).toBe(true);
    expect(csrfMatches(ID, undefined)).toBe(false);
    expect(csrfMatches(ID, '')).toBe(false);
    expect(csrfMatches(ID, csrfTokenOf('b'.repeat(43)))).toBe(false);
    expect(csrfMatches(ID, `${csrfTokenOf(ID)}x`)).toBe(false);
  });

  it('changes the fingerprint on a password, role, auth method or subject change, not on role_uids order', () => {
    const base = sessionFingerprint(user);
    expect(sessionFingerprint({ ...user, role_uids: [1, 2] })).toBe(base);
    expect(sessionFingerprint({ ...user, password_hash: 'scrypt$def' })).not.toBe(base);
    expect(sessionFingerprint({ ...user, password_issue_date: '2026-02-01T00:00:00Z' })).not.toBe(base);
    expect(sessionFingerprint({ ...user, role: 'cluster_viewer' })).not.toBe(base);
    expect(sessionFingerprint({ ...user, role_uids: [1] })).not.toBe(base);
    expect(sessionFingerprint({ ...user, auth_method: 'certificate' })).not.toBe(base);
    expect(sessionFingerprint({ ...user, certificate_subject_line: 'CN=x' })).not.toBe(base);
    expect(sessionFingerprint({ ...user, uid: 8 })).not.toBe(base);
  });

  it('expires after the idle timeout and writes last use back at most once a minute (or a tenth of the timeout)', () => {
    expect(isIdleExpired({ last_seen: 0 }, 899_999, 900_000)).toBe(false);
    expect(isIdleExpired({ last_seen: 0 }, 900_000, 900_000)).toBe(true);
    expect(needsTouch({ last_seen: 0 }, 59_999, 900_000)).toBe(false);
    expect(needsTouch({ last_seen: 0 }, 60_000, 900_000)).toBe(true);
    expect(needsTouch({ last_seen: 0 }, 6_000, 60_000)).toBe(true);
    expect(needsTouch({ last_seen: 0 }, 5_999, 60_000)).toBe(false);
  });

  it('reads the session cookie and writes it HttpOnly, Secure, SameSite=Strict', () => {
    expect(cookieValue('a=1; certplane_session=xyz; b=2', 'certplane_session')).toBe('xyz');
    expect(cookieValue('xcertplane_session=1', 'certplane_session')).toBeUndefined();
    expect(cookieValue(undefined, 'certplane_session')).toBeUndefined();
    expect(cookieValue(`certplane_session=${'x'.repeat(20_000)}`, 'certplane_session')).toBeUndefined();
    expect(sessionCookie(ID)).toBe(`certplane_session=${ID}; HttpOnly; Secure; SameSite=Strict; Path=/`);
    expect(isWellFormedSessionId(ID)).toBe(true);
    expect(isWellFormedSessionId(`${ID}=`)).toBe(false);
    expect(isWellFormedSessionId('../x')).toBe(false);
  });

  it('treats every method but GET, HEAD and OPTIONS as a state change', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'post']) expect(isStateChanging(method)).toBe(true);
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(isStateChanging(method)).toBe(false);
  });

  describe('planNewSession', () => {
    const limits = { perUser: 3, total: 5 };
    const session = (key: string, uid: number, lastSeen: number) => ({ key, record: { uid, last_seen: lastSeen } });

    it('sweeps idle sessions and the user’s least recently used beyond the cap', () => {
      const existing = [session('old', 1, 0), session('a', 7, 500), session('b', 7, 400), session('c', 7, 600), session('other', 2, 700)];
      // The user keeps perUser - 1 = 2 live sessions besides the new one: b (least recently used) goes.
      expect(planNewSession(existing, 7, 1000, 900, limits)).toEqual({ remove: ['old', 'b'], allowed: true });
    });

    it('refuses a login when the cluster is full of live sessions of other users, ending none of them', () => {
      const existing = [1, 2, 3, 4, 5].map((uid) => session(`k${uid}`, uid, 900));
      expect(planNewSession(existing, 9, 1000, 900, limits)).toEqual({ remove: [], allowed: false });
      expect(planNewSession(existing, 1, 1000, 900, limits)).toEqual({ remove: [], allowed: false });
      expect(planNewSession(existing.slice(1), 9, 1000, 900, limits)).toEqual({ remove: [], allowed: true });
    });
  });
});
