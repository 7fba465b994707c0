import { describe, expect, it } from 'vitest';
import { changedFields, clusterChangeEvents } from './entity-events.js';

const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
const caller = { uid: 1, name: 'admin', email: 'admin@example.com', role: 'admin', auth_method: 'regular', via: 'basic' } as const;

describe('entity change events', () => {
  it('names changed fields, secrets under their public name, never values', () => {
    const before = { name: 'a', password_hash: 'scrypt$1', redis_password_sha256: 'ab', last_changed_time: 't1', role_uids: [1] };
    const after = { name: 'b', password_hash: 'scrypt$2', redis_password_sha256: 'cd', last_changed_time: 't2', role_uids: [1] };
    expect(changedFields(before, after)).toEqual(['name', 'password']);
    expect(changedFields({ authentication_redis_pass: 'x' }, { authentication_redis_pass: 'y' })).toEqual(['authentication_redis_pass']);
    expect(changedFields({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
  });

  it('splits cluster changes into mTLS and other settings, and writes nothing when nothing changed', () => {
    const events = clusterChangeEvents(clock, caller, { mtls_certificate_authentication: false, password_min_length: 8 }, { mtls_certificate_authentication: true, password_min_length: 10 }, 'cluster');
    const parsed = events.map((op) => (op.type === 'put' ? JSON.parse(op.value) : undefined));
    expect(parsed).toEqual([
      expect.objectContaining({ type: 'cluster_mtls_updated', severity: 'INFO', user_uid: 1, changed_fields: ['mtls_certificate_authentication'] }),
      expect.objectContaining({ type: 'cluster_updated', changed_fields: ['password_min_length'] }),
    ]);
    expect(clusterChangeEvents(clock, caller, { a: 1 }, { a: 1 }, 'policy')).toEqual([]);
  });
});
