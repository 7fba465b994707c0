// Updates and deletes of a user write only over the version the route read and decided on (review M3): a
// stale read gets 409 config_edit_conflict and changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { keys } from '../../store/keys.js';
import type { Compare } from '../../store/cluster-store.js';
import type { UserRecord } from '../../domain/users.js';
import { UsersRepository, type StoredUser } from './users-repository.js';

let dir: string;
let store: SqliteStore;
let users: UsersRepository;

function user(uid: number, role: UserRecord['role'], hash: string): Omit<UserRecord, 'uid'> & { uid: number } {
  return {
    uid, name: `user${uid}`, email: `user${uid}@example.com`, role, role_uids: [], auth_method: 'regular', certificate_subject_line: '',
    email_alerts: false, password_issue_date: '2026-01-01T00:00:00Z', status: 'active', password_hash: hash,
  };
}

async function read(uid: number): Promise<StoredUser> {
  const stored = await users.getWithRevision(uid);
  if (stored === undefined) throw new Error(`user ${uid} missing`);
  return stored;
}

const guardOf = (s: StoredUser): Compare => ({ key: keys.user(s.record.uid), target: 'mod', op: '==', value: s.modRevision });

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-users-repo-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  users = new UsersRepository(store);
  await users.create(user(1, 'admin', 'hash-admin-1'));
  await users.create(user(2, 'admin', 'hash-admin-2'));
  await users.create(user(3, 'db_viewer', 'old-hash'));
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('UsersRepository writes compare the revision of the route’s read', () => {
  it('refuses a self-update read before an admin’s password reset: the reset hash stays', async () => {
    const attackerRead = await read(3);
    const adminRead = await read(3);
    await users.update(adminRead, { ...adminRead.record, password_hash: 'reset-hash' });
    await expect(users.update(attackerRead, { ...attackerRead.record, name: 'renamed' })).rejects.toMatchObject({ statusCode: 409, errorCode: 'config_edit_conflict' });
    expect((await users.get(3))?.password_hash).toBe('reset-hash');
    expect((await users.get(3))?.name).toBe('user3');
  });

  it('refuses a delete decided on a stale read (the user was promoted meanwhile)', async () => {
    const managerRead = await read(3);
    const adminRead = await read(3);
    await users.update(adminRead, { ...adminRead.record, role: 'admin' });
    await expect(users.delete(managerRead)).rejects.toMatchObject({ statusCode: 409, errorCode: 'config_edit_conflict' });
    expect((await users.get(3))?.role).toBe('admin');
  });

  it('lets only one of two admins deleting each other win when each guards the other remaining', async () => {
    const [one, two] = [await read(1), await read(2)];
    await users.delete(two, [], [guardOf(one)]);
    await expect(users.delete(one, [], [guardOf(two)])).rejects.toMatchObject({ statusCode: 409, errorCode: 'config_edit_conflict' });
    expect((await users.get(1))?.role).toBe('admin');
  });

  it('writes over a fresh read as before', async () => {
    await users.update(await read(3), { ...(await read(3)).record, name: 'fresh' });
    expect((await users.get(3))?.name).toBe('fresh');
    await users.delete(await read(3));
    expect(await users.get(3)).toBeUndefined();
  });
});
