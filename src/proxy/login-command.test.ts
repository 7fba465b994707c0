import { describe, expect, it } from 'vitest';
import { parseLoginCommand } from './login-command.js';

const b = (...args: string[]): Buffer[] => args.map((a) => Buffer.from(a));
const s = (args: Buffer[]): string[] => args.map(String);

describe('parseLoginCommand', () => {
  it('reads AUTH <password> as the default user and AUTH <user> <password>', () => {
    const single = parseLoginCommand(b('auth', 'pw'));
    expect([String(single.username), String(single.password), single.checked]).toEqual(['default', 'pw', true]);
    expect(s(single.rewrite('default', 'secret'))).toEqual(['AUTH', 'default', 'secret']);
    const pair = parseLoginCommand(b('AUTH', 'alice', 'pw'));
    expect([String(pair.username), String(pair.password)]).toEqual(['alice', 'pw']);
    expect(s(pair.rewrite('alice', 'x'))).toEqual(['AUTH', 'alice', 'x']);
  });

  it('reads HELLO options as redis does: the last AUTH wins, every pair is rewritten, SETNAME stays', () => {
    const hello = parseLoginCommand(b('HELLO', '3', 'AUTH', 'a', 'p1', 'SETNAME', 'n', 'auth', 'bob', 'p2'));
    expect([String(hello.username), String(hello.password), hello.checked]).toEqual(['bob', 'p2', true]);
    expect(s(hello.rewrite('bob', 'S'))).toEqual(['HELLO', '3', 'AUTH', 'bob', 'S', 'SETNAME', 'n', 'auth', 'bob', 'S']);
  });

  it('does not check a HELLO redis refuses before authenticating, and still hides its password', () => {
    for (const args of [b('HELLO', '4', 'AUTH', 'a', 'pw'), b('HELLO', 'x', 'AUTH', 'a', 'pw'), b('HELLO', '3', 'AUTH', 'a', 'pw', 'BOGUS')]) {
      const hello = parseLoginCommand(args);
      expect(hello.checked).toBe(false);
      expect(s(hello.rewrite('a', 'junk'))).not.toContain('pw');
    }
  });

  it('reads names up to the first NUL as redis does: HELLO 3 AUTH\\0x <user> <password> is checked and rewritten (review M5)', () => {
    const hello = parseLoginCommand(b('HELLO', '3', 'AUTH\0x', 'alice', 'guess1'));
    expect([String(hello.username), String(hello.password), hello.checked]).toEqual(['alice', 'guess1', true]);
    expect(s(hello.rewrite('alice', 'S'))).toEqual(['HELLO', '3', 'AUTH\0x', 'alice', 'S']);
    const named = parseLoginCommand(b('HELLO', '3', 'SETNAME\0', 'n', 'AUTH', 'alice', 'guess3'));
    expect([String(named.password), named.checked]).toEqual(['guess3', true]);
    const auth = parseLoginCommand(b('auth\0yy', 'alice', 'pw'));
    expect([String(auth.username), String(auth.password), auth.checked]).toEqual(['alice', 'pw', true]);
    expect(s(auth.rewrite('alice', 'S'))).toEqual(['AUTH', 'alice', 'S']);
  });
});

