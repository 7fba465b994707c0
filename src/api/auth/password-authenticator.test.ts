import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { keys } from '../../store/keys.js';
import { putValue } from '../../store/cluster-store.js';
import { hashPassword } from '../../domain/passwords.js';
import type { UserRecord } from '../../domain/users.js';
import { UsersRepository } from '../state/users-repository.js';
import { PasswordAuthenticator } from './password-authenticator.js';

let dir: string;
let store: SqliteStore;
const clock = { now: () => new Date() };

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-pwauth-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  const user: UserRecord = {
    uid: 7, name: 'victim', email: 'victim@example.com', role: 'none', role_uids: [], auth_method: 'regular', certificate_subject_line: '',
    email_alerts: false, password_issue_date: '2026-01-01T00:00:00Z', status: 'active', password_hash: await hashPassword('Right-Password-1'),
  };
  await putValue(store, keys.user(7), JSON.stringify(user));
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('PasswordAuthenticator lockout', () => {
  it('runs at most the threshold of slow checks for 40 concurrent guesses split over two authenticators (API and proxy); the right password after is locked', async () => {
    const api = new PasswordAuthenticator(store, new UsersRepository(store), clock);
    const proxy = new PasswordAuthenticator(store, new UsersRepository(store), clock);
    const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? api : proxy).checkUserPassword(7, `wrong-${i}`)));
    expect(verdicts.filter((v) => v === 'wrong')).toHaveLength(5);
    expect(verdicts.filter((v) => v === 'locked')).toHaveLength(35);
    expect(await proxy.checkUserPassword(7, 'Right-Password-1')).toBe('locked');
    expect(await api.isLocked(7)).toBe(true);
  });

  it('lets a burst of 20 concurrent right passwords all in (keep-alive clients starting together): a full set of checks in flight makes the others wait, not fail', async () => {
    const api = new PasswordAuthenticator(store, new UsersRepository(store), clock);
    const proxy = new PasswordAuthenticator(store, new UsersRepository(store), clock);
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? api : proxy).checkUserPassword(7, 'Right-Password-1')));
    expect(verdicts).toEqual(Array.from({ length: 20 }, () => 'ok'));
    expect(await api.isLocked(7)).toBe(false);
    expect(await store.get(keys.loginFailures(7))).toBeUndefined();
  });

  it('lets the right password in after threshold - 1 failures, resets the count, and writes nothing for a right password', async () => {
    const auth = new PasswordAuthenticator(store, new UsersRepository(store), clock);
    for (let i = 0; i < 4; i++) expect(await auth.checkUserPassword(7, `wrong-${i}`)).toBe('wrong');
    expect(await auth.checkUserPassword(7, 'Right-Password-1')).toBe('ok');
    expect(await store.get(keys.loginFailures(7))).toBeUndefined();
    const before = (await store.list('/')).revision;
    expect(await new PasswordAuthenticator(store, new UsersRepository(store), clock).checkUserPassword(7, 'Right-Password-1')).toBe('ok');
    expect((await store.list('/')).revision).toBe(before);
  });
});
