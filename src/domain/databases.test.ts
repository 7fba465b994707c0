import { describe, expect, it } from 'vitest';
import { createCa, issueCertificate } from '../../test/helpers/pki.js';
import { applyBdbUpdate, BDB_RESPONSE_FIELDS, isValidDbPort, parseBdbFields, pickFreePort, toBdbResponse, validateNewBdb, type BdbRecord, type NewBdbContext } from './databases.js';
import { aclRuleArguments, databaseAclUsers, DATA_PLANE_DENY, redisUsernames } from './database-users.js';
import { checkAclRule, PREDEFINED_REDIS_ACLS } from './redis-acls.js';
import type { UserRecord } from './users.js';

const now = new Date('2026-06-01T00:00:00Z');
const ctx: NewBdbContext = { now, roleUids: new Set([1, 8]), redisAclUids: new Set([1, 3, 100]), clusterHasTrustedCa: false, uid: 1, assignedPort: 12000, nodeUid: '1' };

function created(input: Parameters<typeof validateNewBdb>[0]): BdbRecord {
  const result = validateNewBdb(input, ctx);
  if (!result.ok) throw new Error(`${result.error_code}: ${result.description}`);
  return result.record;
}

describe('database rules', () => {
  it('fills the RS defaults and assigns the port it was given', () => {
    const record = created({ name: 'db-1', memory_size: 1024 });
    expect(record).toMatchObject({ uid: 1, port: 12000, type: 'redis', tls_mode: 'disabled', enforce_client_authentication: 'enabled', default_user: true, roles_permissions: [] });
  });

  it('requires name and memory_size with RS error codes', () => {
    expect(validateNewBdb({ memory_size: 1 }, ctx)).toMatchObject({ ok: false, error_code: 'missing_db_name' });
    expect(validateNewBdb({ name: 'a' }, ctx)).toMatchObject({ ok: false, error_code: 'missing_memory_size' });
    expect(validateNewBdb({ name: '-bad', memory_size: 1 }, ctx)).toMatchObject({ ok: false, error_code: 'invalid_schema' });
  });

  it('accepts ports 10000-19999 except 10050 and picks free ones from 12000', () => {
    expect([9999, 10000, 10050, 19999, 20000].map(isValidDbPort)).toEqual([false, true, false, true, false]);
    expect(validateNewBdb({ name: 'a', memory_size: 1, port: 10050 }, ctx)).toMatchObject({ ok: false, error_code: 'port_unavailable' });
    expect(pickFreePort(new Set([12000, 12001]))).toBe(12002);
  });

  it('validates authentication_ssl_client_certs: invalid, duplicated, expired', async () => {
    const ca = await createCa();
    const expired = await createCa({ notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') });
    const tls = { name: 'a', memory_size: 1, tls_mode: 'enabled' };
    expect(validateNewBdb({ ...tls, authentication_ssl_client_certs: [{ client_cert: 'garbage' }] }, ctx)).toMatchObject({ ok: false, error_code: 'invalid_certificate' });
    expect(validateNewBdb({ ...tls, authentication_ssl_client_certs: [{ client_cert: ca.certificate }, { client_cert: ca.certificate }] }, ctx)).toMatchObject({ ok: false, error_code: 'duplicated_certs' });
    expect(validateNewBdb({ ...tls, authentication_ssl_client_certs: [{ client_cert: expired.certificate }] }, { ...ctx, now: new Date() })).toMatchObject({ ok: false, error_code: 'certificate_expired' });
    const leaf = await issueCertificate(ca, { cn: 'client' });
    expect(created({ ...tls, authentication_ssl_client_certs: [{ client_cert: ca.certificate }, { client_cert: leaf.certificate }] }).authentication_ssl_client_certs).toHaveLength(2);
  });

  it('needs trust material when TLS enforces client certificates', () => {
    expect(validateNewBdb({ name: 'a', memory_size: 1, tls_mode: 'enabled' }, ctx)).toMatchObject({ ok: false, error_code: 'invalid_certificate' });
    expect(validateNewBdb({ name: 'a', memory_size: 1, tls_mode: 'enabled' }, { ...ctx, clusterHasTrustedCa: true }).ok).toBe(true);
    expect(validateNewBdb({ name: 'a', memory_size: 1, tls_mode: 'enabled', enforce_client_authentication: 'disabled' }, ctx).ok).toBe(true);
  });

  it('checks roles_permissions references and keeps uid read-only on update', () => {
    const record = created({ name: 'a', memory_size: 1 });
    expect(applyBdbUpdate(record, { roles_permissions: [{ role_uid: 99, redis_acl_uid: 1 }] }, ctx)).toMatchObject({ ok: false, error_code: 'unknown_role' });
    expect(applyBdbUpdate(record, { roles_permissions: [{ role_uid: 8, redis_acl_uid: 7 }] }, ctx)).toMatchObject({ ok: false, error_code: 'unknown_redis_acl' });
    expect(applyBdbUpdate(record, { uid: 5 }, ctx)).toMatchObject({ ok: false, error_code: 'invalid_schema' });
    expect(applyBdbUpdate(record, { memory_size: 5 }, ctx)).toMatchObject({ ok: true, record: { memory_size: 5, port: 12000 } });
  });
});

describe('bdb fields (GET /v1/bdbs?fields=)', () => {
  it('lists exactly the fields of the wire form', () => {
    const wire = toBdbResponse(created({ name: 'db', memory_size: 1 }), { status: 'active', address: '127.0.0.1', clusterName: 'c', showPassword: false });
    expect([...BDB_RESPONSE_FIELDS].sort()).toEqual(Object.keys(wire).sort());
  });

  it('parses a comma-separated list, ignoring blanks and repeats, and names unknown fields', () => {
    expect(parseBdbFields('uid, name,,uid')).toEqual({ ok: true, fields: ['uid', 'name'] });
    expect(parseBdbFields('uid,module_list,colour')).toMatchObject({ ok: false, error_code: 'invalid_schema', description: expect.stringContaining('module_list, colour') });
    expect(parseBdbFields(' , ')).toMatchObject({ ok: false, error_code: 'invalid_schema' });
  });
});

describe('database users', () => {
  const base = { email: '', email_alerts: true, password_issue_date: '', status: 'active' as const, role: 'none' as const };
  const users: UserRecord[] = [
    { ...base, uid: 2, name: 'alice', role_uids: [8], auth_method: 'certificate', certificate_subject_line: 'CN=alice' },
    { ...base, uid: 3, name: 'bob', role_uids: [8, 9], auth_method: 'regular', certificate_subject_line: '', password_hash: 'scrypt$x' },
    { ...base, uid: 4, name: 'carol', role_uids: [1], auth_method: 'regular', certificate_subject_line: '', password_hash: 'scrypt$x' },
  ];
  it('gives each user of a bound role the ACLs of their roles on that database, named by their certplane name', () => {
    const acls = [...PREDEFINED_REDIS_ACLS, { uid: 100, name: 'w', acl: '+@write ~w:*' }];
    // uid 3 is Not Dangerous (the reference's uids: 1 Full Access, 2 Read Only, 3 Not Dangerous).
    const result = databaseAclUsers({ roles_permissions: [{ role_uid: 8, redis_acl_uid: 3 }, { role_uid: 9, redis_acl_uid: 100 }] }, acls, users);
    expect(result).toEqual([
      { kind: 'certificate', user_uid: 2, name: 'alice', username: 'alice', subject_line: 'CN=alice', rules: [PREDEFINED_REDIS_ACLS[2]?.acl] },
      { kind: 'password', user_uid: 3, name: 'bob', username: 'bob', rules: [PREDEFINED_REDIS_ACLS[2]?.acl, '+@write ~w:*'] },
    ]);
  });

  it('appends the data-plane deny after the root rules and inside every selector', () => {
    const deny = DATA_PLANE_DENY.join(' ');
    expect(aclRuleArguments(['+@read ~*', '+@all ~w:*'])).toEqual(['+@read', '~*', ...DATA_PLANE_DENY, `(+@all ~w:* ${deny})`]);
    expect(DATA_PLANE_DENY.slice(0, 3)).toEqual(['-acl', '+acl|whoami', '+acl|cat']);
    for (const command of ['-config', '-debug', '-module', '-shutdown', '-replicaof', '-slaveof', '-migrate', '-sync', '-psync']) expect(DATA_PLANE_DENY).toContain(command);
  });

  it('gives names redis cannot take a stand-in that never collides with another name', () => {
    const names = redisUsernames([
      { uid: 1, name: 'John Smith' },
      { uid: 2, name: 'a b' },
      { uid: 3, name: 'a_b' },
      { uid: 4, name: 'default' },
      { uid: 5, name: '__certplane_admin' },
      { uid: 6, name: 'x y_' },
      { uid: 7, name: 'x_y ' },
    ]);
    expect(Object.fromEntries(names)).toEqual({ 1: 'John_Smith', 2: '__user_2', 3: 'a_b', 4: '__user_4', 5: '__user_5', 6: '__user_6', 7: '__user_7' });
  });

  it('refuses ACL rules that touch credentials or user state', () => {
    expect(checkAclRule('+@read +FT.SEARCH ~app:* %R~x &chan allkeys').ok).toBe(true);
    for (const bad of ['on', '>secret', 'nopass', 'reset', '#abc', '(+@all)', '']) expect(checkAclRule(bad).ok).toBe(false);
  });
});
