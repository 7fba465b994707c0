import { describe, it, expect } from 'vitest';
import { checkPasswordPolicy, hashPassword, isPasswordExpired, verifyPassword } from './passwords.js';

describe('hashPassword / verifyPassword', () => {
  it('round-trips a password and refuses a wrong one', async () => {
    const encoded = await hashPassword('Correct-Horse-9');
    expect(encoded).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifyPassword('Correct-Horse-9', encoded)).toBe(true);
    expect(await verifyPassword('correct-horse-9', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('handles non-ASCII passwords, normalising Unicode forms', async () => {
    const encoded = await hashPassword('p\u00e4sswörd');
    expect(await verifyPassword('pa\u0308sswörd', encoded)).toBe(true);
    expect(await verifyPassword('passwörd', encoded)).toBe(false);
  });

  it('never matches a malformed or hostile hash', async () => {
    const good = await hashPassword('x');
    const parts = good.split('$');
    const variants = [
      '',
      'plain',
      good.replace('scrypt', 'bcrypt'),
      [...parts.slice(0, 5)].join('$'),
      ['scrypt', '1000', ...parts.slice(2)].join('$'),
      ['scrypt', String(1 << 24), ...parts.slice(2)].join('$'),
      ['scrypt', parts[1], '0', ...parts.slice(3)].join('$'),
      ['scrypt', parts[1], parts[2], parts[3], '!!', parts[5]].join('$'),
      ['scrypt', parts[1], parts[2], parts[3], parts[4], 'AAAA'].join('$'),
    ];
    for (const encoded of variants) expect(await verifyPassword('x', encoded), encoded).toBe(false);
  });
});

describe('checkPasswordPolicy', () => {
  const simple = { password_complexity: false, password_min_length: 8 };
  const complex = { password_complexity: true, password_min_length: 8 };

  it('applies the minimum length even without complexity, defaulting to 8', () => {
    expect(checkPasswordPolicy('1234567', simple).ok).toBe(false);
    expect(checkPasswordPolicy('12345678', simple).ok).toBe(true);
    expect(checkPasswordPolicy('1234567', { password_complexity: false }).ok).toBe(false);
    expect(checkPasswordPolicy('12345678', { password_complexity: false }).ok).toBe(true);
    const long = checkPasswordPolicy('Abcdef1!xyz', { password_complexity: true, password_min_length: 12 });
    expect(long).toEqual({
      ok: false,
      description: 'The password does not satisfy the password policy: it must be at least 12 characters long',
    });
  });

  it('counts characters, not UTF-16 units', () => {
    expect(checkPasswordPolicy('😀😀😀😀', simple).ok).toBe(false);
  });

  it('accepts a password that meets every complexity rule', () => {
    expect(checkPasswordPolicy('Str0ng!Pass', complex, 'alice@example.com')).toEqual({ ok: true });
  });

  it.each([
    ['str0ng!pass', 'uppercase letter'],
    ['STR0NG!PASS', 'lowercase letter'],
    ['Strong!Pass', 'digit'],
    ['Str0ngPass1', 'special character'],
    ['Sh0rt!', 'at least 8 characters'],
    ['Str0ng!Paaaass', 'more than 3 times'],
  ])('refuses %j (%s)', (password, rule) => {
    const result = checkPasswordPolicy(password, complex);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.description).toContain(rule);
      expect(result.description).not.toContain(password);
    }
  });

  it('allows a character three times in a row', () => {
    expect(checkPasswordPolicy('Str0ng!Paaass', complex).ok).toBe(true);
  });

  it('refuses a password containing the email or the reversed email, ignoring case', () => {
    const email = 'bob@ex.io';
    expect(checkPasswordPolicy('X1!BOB@EX.IO', complex, email)).toMatchObject({ ok: false });
    const reversed = checkPasswordPolicy('X1!oi.xe@bob', complex, email);
    expect(reversed.ok).toBe(false);
    if (!reversed.ok) expect(reversed.description).toContain('reversed');
    expect(checkPasswordPolicy('X1!bob@ex.com', complex, email).ok).toBe(true);
    expect(checkPasswordPolicy('X1!bob@ex.io', complex, '').ok).toBe(true);
  });

  it('lists every failed rule', () => {
    const result = checkPasswordPolicy('aaaa', complex);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      for (const rule of ['8 characters', 'uppercase', 'digit', 'special', 'more than 3 times']) {
        expect(result.description).toContain(rule);
      }
      expect(result.description).not.toContain('lowercase');
    }
  });

  it('does not apply the complexity rules when complexity is off', () => {
    expect(checkPasswordPolicy('aaaaaaaa', simple).ok).toBe(true);
  });
});

describe('isPasswordExpired', () => {
  const issued = '2025-10-14T00:01:06Z';

  it('never expires when the duration is 0', () => {
    expect(isPasswordExpired(issued, 0, new Date('2099-01-01T00:00:00Z'))).toBe(false);
  });

  it('expires expirationDays after the issue date', () => {
    expect(isPasswordExpired(issued, 30, new Date('2025-11-13T00:01:05Z'))).toBe(false);
    expect(isPasswordExpired(issued, 30, new Date('2025-11-13T00:01:06Z'))).toBe(true);
  });

  it('treats an unreadable issue date as expired when expiry is on', () => {
    expect(isPasswordExpired('not a date', 30, new Date())).toBe(true);
    expect(isPasswordExpired('not a date', 0, new Date())).toBe(false);
  });
});
