import { describe, expect, it } from 'vitest';
import type { ClusterStore, TxnRequest } from '../../store/cluster-store.js';
import { LoginRefusalLog, type LoginRefusalEvent } from './login-refusal-events.js';

function recordingStore(): { store: ClusterStore; events: LoginRefusalEvent[] } {
  const events: LoginRefusalEvent[] = [];
  const store = {
    txn: async (request: TxnRequest) => {
      for (const op of request.success ?? []) if (op.type === 'put') events.push(JSON.parse(op.value) as LoginRefusalEvent);
      return { succeeded: true, revision: events.length };
    },
  } as unknown as ClusterStore;
  return { store, events };
}

function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): { now: () => Date; advance: (ms: number) => void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

describe('LoginRefusalLog', () => {
  it('writes one event per subject per window and counts the attempts it did not write', async () => {
    const { store, events } = recordingStore();
    const clock = fakeClock();
    const log = new LoginRefusalLog(store, clock, { windowMs: 60_000 });
    for (let i = 0; i < 10; i++) await log.userLocked({ uid: 7, email: 'x@example.com' }, '127.0.0.1', 'user_locked');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'user_locked', severity: 'WARNING', target_uid: 7, target_name: 'x@example.com', refused_attempts: 1 });
    clock.advance(60_000);
    await log.userLocked({ uid: 7, email: 'x@example.com' }, '127.0.0.2', 'user_locked');
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ refused_attempts: 10, remote_address: '127.0.0.2', time: '2026-01-01T00:01:00.000Z' });
  });

  it('caps the events of all subjects per window, so made-up certificate subjects cannot flood the store', async () => {
    const { store, events } = recordingStore();
    const clock = fakeClock();
    const log = new LoginRefusalLog(store, clock, { windowMs: 60_000, maxPerWindow: 5 });
    for (let i = 0; i < 50; i++) await log.certificateRefused(`CN=made-up-${i}`, '127.0.0.1', new Error('x'));
    expect(events).toHaveLength(5);
    expect(events[0]).toMatchObject({ type: 'certificate_login_refused', subject: 'CN=made-up-0', error_code: 'internal_error', target_type: 'api' });
    clock.advance(60_000);
    await log.certificateRefused('CN=made-up-49', '127.0.0.1', new Error('x'));
    expect(events).toHaveLength(6);
  });

  it('truncates a huge subject and keeps refusing quietly when the store fails', async () => {
    const { store, events } = recordingStore();
    const log = new LoginRefusalLog(store, fakeClock());
    await log.certificateRefused(`CN=${'a'.repeat(5000)}`, '127.0.0.1', new Error('x'));
    expect(events[0]!.subject!.length).toBeLessThanOrEqual(513);
    const errors: unknown[] = [];
    const failing = { txn: async () => Promise.reject(new Error('store down')) } as unknown as ClusterStore;
    await new LoginRefusalLog(failing, fakeClock(), { onError: (e) => errors.push(e) }).certificateRefused('CN=x', '127.0.0.1', new Error('x'));
    expect(errors).toHaveLength(1);
  });

  it('records refused database logins once per database and claimed user per window, never a password', async () => {
    const { store, events } = recordingStore();
    const clock = fakeClock();
    const log = new LoginRefusalLog(store, clock, { windowMs: 60_000 });
    for (let i = 0; i < 5; i++) await log.databaseLoginRefused({ bdbUid: 3, userName: 'alice', userUid: 9, remoteAddress: '127.0.0.1', reason: 'wrong_password' });
    await log.databaseLoginRefused({ bdbUid: 4, userName: 'alice', remoteAddress: '127.0.0.1', reason: 'unknown_user' });
    expect(events).toEqual([
      expect.objectContaining({ type: 'database_login_refused', target_type: 'bdb', target_uid: 3, user_name: 'alice', user_uid: 9, error_code: 'wrong_password', refused_attempts: 1 }),
      expect.objectContaining({ type: 'database_login_refused', target_uid: 4, user_name: 'alice', error_code: 'unknown_user' }),
    ]);
    expect(events[1]).not.toHaveProperty('user_uid');
    clock.advance(60_000);
    await log.databaseLoginRefused({ bdbUid: 3, userName: `alice${'x'.repeat(500)}`, remoteAddress: '127.0.0.1', reason: 'wrong_password' });
    expect(events[2]!.user_name).toHaveLength(100);
  });
});
