import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintMatches, JWT_MAX_LENGTH, newClaims, signJwt, userFingerprint, verifyJwt } from './jwt.js';

const secret = Buffer.alloc(32, 7);
const user = { uid: 5, auth_method: 'regular', password_hash: 'scrypt$abc', certificate_subject_line: '', password_issue_date: '2026-01-01T00:00:00Z' };
const now = new Date('2026-01-01T00:00:00Z');
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JSON Web Tokens (HS256)', () => {
  const token = signJwt(secret, newClaims(secret, user, now, 300, 'id1'));

  it('verifies a token it signed until it expires', () => {
    const verdict = verifyJwt(secret, token, now);
    expect(verdict).toMatchObject({ ok: true, claims: { sub: '5', iat: 1767225600, exp: 1767225900, jti: 'id1' } });
    expect(verifyJwt(secret, token, new Date(now.getTime() + 299_000)).ok).toBe(true);
    expect(verifyJwt(secret, token, new Date(now.getTime() + 300_000))).toEqual({ ok: false, reason: 'the token has expired' });
  });

  it('refuses another secret, a tampered payload, alg none and other algorithms, and oversized tokens', () => {
    expect(verifyJwt(Buffer.alloc(32, 8), token, now).ok).toBe(false);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    expect(verifyJwt(secret, `${header}.${b64({ ...claims, sub: '1' })}.${signature}`, now)).toEqual({ ok: false, reason: 'the token signature is invalid' });
    expect(verifyJwt(secret, `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, now).ok).toBe(false);
    expect(verifyJwt(secret, `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`, now).ok).toBe(false);
    const hs512Header = b64({ alg: 'HS512', typ: 'JWT' });
    const hs512 = createHmac('sha512', secret).update(`${hs512Header}.${payload}`).digest('base64url');
    expect(verifyJwt(secret, `${hs512Header}.${payload}.${hs512}`, now)).toEqual({ ok: false, reason: 'the token is not signed with HS256' });
    expect(verifyJwt(secret, 'a'.repeat(JWT_MAX_LENGTH + 1), now)).toEqual({ ok: false, reason: 'the token is too long' });
    for (const bad of ['', 'a.b', 'a.b.c.d', `${header}.${payload}.${signature}=`, `${header}..${signature}`]) expect(verifyJwt(secret, bad, now).ok).toBe(false);
  });

  it('refuses a correctly signed token with incomplete claims', () => {
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const payload = b64({ sub: 5, exp: 9999999999 });
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    expect(verifyJwt(secret, `${header}.${payload}.${signature}`, now)).toEqual({ ok: false, reason: 'the token claims are incomplete' });
  });

  it('fingerprints the credentials: a new password hash or auth method no longer matches', () => {
    const fpr = userFingerprint(secret, user);
    expect(fingerprintMatches(secret, user, fpr)).toBe(true);
    expect(fingerprintMatches(secret, { ...user, password_hash: 'scrypt$other' }, fpr)).toBe(false);
    expect(fingerprintMatches(secret, { ...user, auth_method: 'certificate' }, fpr)).toBe(false);
    expect(fingerprintMatches(secret, { ...user, uid: 6 }, fpr)).toBe(false);
    expect(fingerprintMatches(secret, { ...user, password_issue_date: '2026-02-01T00:00:00Z' }, fpr)).toBe(false);
    expect(fingerprintMatches(secret, user, 'short')).toBe(false);
  });

  it('caps exp at auth_time + the maximum session age and keeps a refresh\'s auth_time (review M1)', () => {
    const login = newClaims(secret, user, now, 3600, 'j1', { maxSessionSeconds: 100 });
    const t0 = now.getTime() / 1000;
    expect([login.auth_time, login.iat, login.exp]).toEqual([t0, t0, t0 + 100]);
    const later = new Date(now.getTime() + 60_000);
    const refresh = newClaims(secret, user, later, 3600, 'j2', { authTime: login.auth_time, maxSessionSeconds: 100 });
    expect([refresh.auth_time, refresh.iat, refresh.exp]).toEqual([t0, t0 + 60, t0 + 100]);
    const short = newClaims(secret, user, later, 10, 'j3', { authTime: login.auth_time, maxSessionSeconds: 100 });
    expect(short.exp).toBe(t0 + 70);
    // A token without auth_time (or one later than iat) is incomplete.
    const { auth_time: _dropped, ...legacy } = login;
    expect(verifyJwt(secret, signJwt(secret, legacy as typeof login), now)).toMatchObject({ ok: false, reason: 'the token claims are incomplete' });
    expect(verifyJwt(secret, signJwt(secret, { ...login, auth_time: login.iat + 1 }), now)).toMatchObject({ ok: false });
    expect(verifyJwt(secret, signJwt(secret, login), now).ok).toBe(true);
  });
});

