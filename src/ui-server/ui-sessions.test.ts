import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../test/helpers/temp-store.js';
import { keys } from '../store/keys.js';
import { ApiError } from '../lib/api-error.js';
import type { UserRecord } from '../domain/users.js';
import { sessionKeyOf } from '../domain/ui-sessions.js';
import { UiSessions, type LiveSession } from './ui-sessions.js';

const user = (uid: number, extra: Partial<UserRecord> = {}): UserRecord => ({
  uid,
  name: `u${uid}`,
  email: `u${uid}@example.com`,
  role: 'admin',
  role_uids: [],
  auth_method: 'regular',
  certificate_subject_line: '',
  email_alerts: false,
  password_hash: 'scrypt$x',
  password_issue_date: '2026-01-01T00:00:00Z',
  status: 'active',
  ...extra,
});

describe('UiSessions (cluster store)', () => {
  let temp: TempStore;
  let now: number;
  const users = new Map<number, UserRecord>();
  let sessions: UiSessions;

  beforeEach(async () => {
    temp = await openTempStore('certplane-ui-sessions-');
    now = Date.parse('2026-06-01T00:00:00Z');
    users.clear();
    users.set(1, user(1));
    users.set(2, user(2));
    sessions = new UiSessions(temp.store, { get: async (uid) => users.get(uid) }, { now: () => new Date(now) }, { limits: { perUser: 2, total: 3 } });
  });

  afterEach(async () => {
    await temp.destroy();
  });

  const live = async (id: string, minutes = 15): Promise<LiveSession> => {
    const found = await sessions.resolve(id, minutes);
    if (typeof found === 'string') throw new Error(`no session: ${found}`);
    return found;
  };

  it('stores the session under the hash of its id, never the id or the CSRF token', async () => {
    const { id, csrfToken } = await sessions.create(users.get(1)!, 'password', 15);
    const { kvs } = await temp.store.list(keys.uiSessionPrefix);
    expect(kvs.map((kv) => kv.key)).toEqual([keys.uiSession(sessionKeyOf(id))]);
    expect(JSON.stringify(kvs)).not.toContain(id);
    expect(JSON.stringify(kvs)).not.toContain(csrfToken);
    expect((await live(id)).csrfToken).toBe(csrfToken);
    expect(await sessions.resolve(undefined, 15)).toBe('none');
    expect(await sessions.resolve('not-an-id', 15)).toBe('ended');
    expect(await sessions.resolve('A'.repeat(43), 15)).toBe('ended');
  });

  it('ends a session after the idle timeout, and a used session lives on', async () => {
    const idle = await sessions.create(users.get(1)!, 'password', 15);
    const used = await sessions.create(users.get(2)!, 'password', 15);
    for (let minute = 0; minute < 20; minute++) {
      now += 60_000;
      const session = await live(used.id);
      await sessions.touch(session, 15);
    }
    expect(await sessions.resolve(idle.id, 15)).toBe('ended');
    expect((await temp.store.list(keys.uiSessionPrefix)).kvs).toHaveLength(1);
    await live(used.id);
  });

  it('ends a session when its user’s password, role or existence changes, and follows its own change', async () => {
    const first = await sessions.create(users.get(1)!, 'password', 15);
    const second = await sessions.create(users.get(1)!, 'password', 15);
    const own = await live(first.id);
    users.set(1, user(1, { password_hash: 'scrypt$new', password_issue_date: '2026-06-01T00:00:00Z' }));
    await sessions.followOwnChange(own);
    await live(first.id);
    expect(await sessions.resolve(second.id, 15)).toBe('ended');
    users.set(1, user(1, { password_hash: 'scrypt$new', password_issue_date: '2026-06-01T00:00:00Z', role: 'cluster_viewer' }));
    expect(await sessions.resolve(first.id, 15)).toBe('ended');
    const third = await sessions.create(users.get(1)!, 'password', 15);
    users.delete(1);
    expect(await sessions.resolve(third.id, 15)).toBe('ended');
  });

  it('caps sessions per user (least recently used goes) and in all (refused, nobody else ended)', async () => {
    const a = await sessions.create(users.get(1)!, 'password', 15);
    now += 1000;
    const b = await sessions.create(users.get(1)!, 'password', 15);
    now += 1000;
    const c = await sessions.create(users.get(1)!, 'password', 15);
    expect(await sessions.resolve(a.id, 15)).toBe('ended');
    await live(b.id);
    await live(c.id);
    const d = await sessions.create(users.get(2)!, 'password', 15);
    // Three live sessions: the cluster is full, for a new user and for user 2 (below its own cap) alike.
    users.set(3, user(3));
    for (const uid of [3, 2]) {
      const refused = await sessions.create(users.get(uid)!, 'password', 15).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).errorCode).toBe('too_many_sessions');
    }
    expect((await temp.store.list(keys.uiSessionPrefix)).kvs).toHaveLength(3);
    await live(d.id);
    // Once idle sessions expire, there is room again.
    now += 16 * 60_000;
    await expect(sessions.create(users.get(3)!, 'password', 15)).resolves.toBeDefined();
    expect((await temp.store.list(keys.uiSessionPrefix)).kvs).toHaveLength(1);
  });

  it('does not bring back a session deleted while a request was using it', async () => {
    const { id } = await sessions.create(users.get(1)!, 'password', 15);
    const session = await live(id);
    await sessions.end(session);
    now += 120_000;
    await sessions.touch(session, 15);
    expect(await sessions.resolve(id, 15)).toBe('ended');
  });
});
