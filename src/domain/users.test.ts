import { describe, it, expect } from 'vitest';
import { verifyPassword } from './passwords.js';
import { DEFAULT_ROLES } from './rbac.js';
import {
  applyUserUpdate,
  DEFAULT_CERTIFICATE_USER_ROLE,
  completeUserRecord,
  formatIssueDate,
  toUserResponse,
  validateNewUser,
  type UserRecord,
  type UserRuleResult,
  type UserRulesContext,
} from './users.js';

// fixtures/rs-responses/user_single.json (a real RS response), copied so the unit tests stand alone.
const FIXTURE =
  '{"auth_method":"regular","certificate_subject_line":"","email":"admin@redis.local","email_alerts":true,"name":"Administrator","password_issue_date":"2025-10-14T00:01:06Z","role":"admin","role_uids":[1],"status":"active","uid":1}';

const now = new Date('2025-10-14T00:01:06.789Z');
const ctx: UserRulesContext = {
  now,
  roles: [...DEFAULT_ROLES, { uid: 12, management: 'db_member' }],
  policy: { password_complexity: true, password_min_length: 8 },
};
const newCtx = { ...ctx, uid: 2 };
const GOOD_PASSWORD = 'Str0ng!Pass';

function accepted(result: UserRuleResult) {
  if (!result.ok) throw new Error(`expected acceptance, got ${result.error_code}: ${result.description}`);
  return result;
}

function admin(): UserRecord {
  return {
    uid: 1,
    name: 'Administrator',
    email: 'admin@redis.local',
    role: 'admin',
    role_uids: [1],
    auth_method: 'regular',
    certificate_subject_line: '',
    email_alerts: true,
    password_hash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
    password_issue_date: '2025-10-14T00:01:06Z',
    status: 'active',
  };
}

function certUser(): UserRecord {
  return {
    uid: 3,
    name: 'alice',
    email: '',
    role: 'db_viewer',
    role_uids: [5],
    auth_method: 'certificate',
    certificate_subject_line: 'CN=alice,OU=Eng,O=Acme',
    email_alerts: true,
    password_issue_date: '2025-10-14T00:01:06Z',
    status: 'active',
  };
}

describe('toUserResponse', () => {
  it('produces exactly the fixture body (fields, order, types) and drops the password hash', () => {
    const body = toUserResponse(admin(), { now, passwordExpirationDays: 0 });
    expect(JSON.stringify(body)).toBe(FIXTURE);
    expect(body).not.toHaveProperty('password_hash');
  });

  it('reports locked, then password_expired, else active', () => {
    const later = new Date('2026-01-01T00:00:00Z');
    expect(toUserResponse(admin(), { now: later, passwordExpirationDays: 30 }).status).toBe('password_expired');
    expect(toUserResponse(admin(), { now: later, passwordExpirationDays: 30, locked: true }).status).toBe('locked');
    expect(toUserResponse(admin(), { now: later, passwordExpirationDays: 0 }).status).toBe('active');
    expect(toUserResponse({ ...admin(), status: 'locked' }, { now, passwordExpirationDays: 0 }).status).toBe('locked');
    expect(toUserResponse({ ...admin(), status: 'locked' }, { now, passwordExpirationDays: 0, locked: false }).status).toBe(
      'active',
    );
  });

  it('never reports a certificate user as password_expired', () => {
    const later = new Date('2026-01-01T00:00:00Z');
    expect(toUserResponse(certUser(), { now: later, passwordExpirationDays: 30 }).status).toBe('active');
  });

  it('adds the optional alert fields and last_login when set', () => {
    const body = toUserResponse(
      { ...admin(), bdbs_email_alerts: ['1'], cluster_email_alerts: false, last_login: 1760400066 },
      { now, passwordExpirationDays: 0 },
    );
    expect(body).toMatchObject({ bdbs_email_alerts: ['1'], cluster_email_alerts: false, last_login: 1760400066 });
  });
});

describe('formatIssueDate', () => {
  it('prints ISO 8601 without milliseconds', () => {
    expect(formatIssueDate(now)).toBe('2025-10-14T00:01:06Z');
  });
});

describe('validateNewUser', () => {
  it('accepts a regular user and hands back the password to hash', async () => {
    const result = accepted(
      validateNewUser({ name: 'Bob', email: 'bob@example.com', password: GOOD_PASSWORD, role: 'db_member' }, newCtx),
    );
    expect(result.passwordToHash).toBe(GOOD_PASSWORD);
    expect(result.record).toEqual({
      uid: 2,
      name: 'Bob',
      email: 'bob@example.com',
      role: 'db_member',
      role_uids: [4],
      auth_method: 'regular',
      certificate_subject_line: '',
      email_alerts: true,
      password_issue_date: '2025-10-14T00:01:06Z',
      status: 'active',
    });
    const stored = await completeUserRecord(result);
    expect(await verifyPassword(GOOD_PASSWORD, stored.password_hash ?? '')).toBe(true);
  });

  it('gives db_viewer when neither role nor role_uids is sent', () => {
    const result = accepted(validateNewUser({ name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD }, newCtx));
    expect(result.record).toMatchObject({ role: 'db_viewer', role_uids: [5] });
  });

  it('derives role from the first role uid', () => {
    const result = accepted(
      validateNewUser({ name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD, role_uids: [12, 1] }, newCtx),
    );
    expect(result.record).toMatchObject({ role: 'db_member', role_uids: [12, 1] });
  });

  it('accepts role and role_uids that agree, refuses ones that do not', () => {
    const base = { name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD };
    expect(validateNewUser({ ...base, role: 'admin', role_uids: [1] }, newCtx).ok).toBe(true);
    expect(validateNewUser({ ...base, role: 'admin', role_uids: [5] }, newCtx)).toMatchObject({
      ok: false,
      error_code: 'invalid_schema',
    });
  });

  it('refuses an unknown role uid with unknown_role', () => {
    const result = validateNewUser({ name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD, role_uids: [99] }, newCtx);
    expect(result).toMatchObject({ ok: false, error_code: 'unknown_role' });
  });

  it('refuses a management role no role carries with unknown_role', () => {
    const result = validateNewUser(
      { name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD, role: 'user_manager' },
      { ...newCtx, roles: DEFAULT_ROLES.filter((r) => r.management !== 'user_manager') },
    );
    expect(result).toMatchObject({ ok: false, error_code: 'unknown_role' });
  });

  it.each([
    [{ role: 'root' }, 'invalid_schema'],
    [{ role_uids: [] }, 'invalid_schema'],
    [{ role_uids: [1, 1] }, 'invalid_schema'],
    [{ role_uids: [0] }, 'invalid_schema'],
  ])('refuses bad role fields %j', (fields, code) => {
    const result = validateNewUser(
      { name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD, ...(fields as object) },
      newCtx,
    );
    expect(result).toMatchObject({ ok: false, error_code: code });
  });

  it('refuses a regular user without a password with missing_password', () => {
    expect(validateNewUser({ name: 'Bob', email: 'b@x.io' }, newCtx)).toMatchObject({
      ok: false,
      error_code: 'missing_password',
    });
  });

  it('refuses a password that fails the policy with password_not_complex', () => {
    const result = validateNewUser({ name: 'Bob', email: 'b@x.io', password: 'weakpass' }, newCtx);
    expect(result).toMatchObject({ ok: false, error_code: 'password_not_complex' });
    const withEmail = validateNewUser({ name: 'Bob', email: 'b@x.io', password: 'Aa1!b@x.io' }, newCtx);
    expect(withEmail).toMatchObject({ ok: false, error_code: 'password_not_complex' });
  });

  it.each([
    [{ name: undefined }, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'a&b' }, 'name'],
    [{ name: 'say "hi"' }, 'name'],
    [{ name: 'x'.repeat(256) }, 'name'],
    [{ email: 'not-an-email' }, 'email'],
    [{ email: 'ü@example.com' }, 'email'],
    [{ email: '' }, 'email'],
    [{ auth_method: 'sso' }, 'auth_method'],
    [{ certificate_subject_line: 'CN=bob' }, 'certificate_subject_line'],
    [{ bdbs_email_alerts: ['1', '1'] }, 'bdbs_email_alerts'],
  ])('refuses %j with invalid_schema', (fields, mention) => {
    const result = validateNewUser({ name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD, ...fields }, newCtx);
    expect(result).toMatchObject({ ok: false, error_code: 'invalid_schema' });
    if (!result.ok) expect(result.description).toContain(mention);
  });

  it('accepts names with the allowed punctuation and 255 characters', () => {
    for (const name of ["O'Brien (ops) #1", 'x'.repeat(255), 'a b;c=d?e~']) {
      expect(validateNewUser({ name, email: 'b@x.io', password: GOOD_PASSWORD }, newCtx).ok).toBe(true);
    }
  });

  it('accepts a certificate user without password or email', () => {
    const result = accepted(
      validateNewUser(
        { name: 'alice', auth_method: 'certificate', certificate_subject_line: 'CN=alice,OU=Eng,O=Acme', role_uids: [3] },
        newCtx,
      ),
    );
    expect(result.passwordToHash).toBeUndefined();
    expect(result.record).toMatchObject({
      auth_method: 'certificate',
      certificate_subject_line: 'CN=alice,OU=Eng,O=Acme',
      email: '',
      role: 'cluster_viewer',
      role_uids: [3],
    });
    expect(result.record).not.toHaveProperty('password_hash');
  });

  it('refuses a certificate user with a password with invalid_schema and says why', () => {
    const result = validateNewUser(
      { name: 'alice', auth_method: 'certificate', certificate_subject_line: 'CN=alice', password: GOOD_PASSWORD },
      newCtx,
    );
    expect(result).toMatchObject({ ok: false, error_code: 'invalid_schema' });
    if (!result.ok) expect(result.description).toMatch(/no password/);
  });

  it.each([
    [undefined, 'need a certificate_subject_line'],
    ['', 'need a certificate_subject_line'],
    ['OU=Eng,CN=alice', 'forward order'],
    ['C=US, O=Acme, CN=alice', '"CN=alice, O=Acme, C=US"'],
    ['CN=alice,STREET=x', 'unknown attribute type "STREET"'],
    ['CN=', 'the value of CN is empty'],
    ['CN=alice\nO=x', 'control character'],
  ])('refuses certificate_subject_line %j with invalid_subject_line saying %j and the expected form', (line, reason) => {
    for (const name of ['alice', undefined]) {
      const result = validateNewUser(
        { name, auth_method: 'certificate', certificate_subject_line: line },
        newCtx,
      );
      expect(result).toMatchObject({ ok: false, error_code: 'invalid_subject_line' });
      if (!result.ok) {
        expect(result.description).toContain(reason);
        expect(result.description).toContain(
          'expected form: "CN=<Common Name>, OU=<Organization Unit>, O=<Organization>, L=<Locality>, ST=<State/Province>, C=<Country>"',
        );
      }
    }
  });

  it("accepts the reference page's example body as is: name from the CN, role none, line stored as sent", () => {
    const line = 'CN=alice, OU=Eng, O=Acme, L=San Francisco, ST=CA, C=US';
    const result = accepted(validateNewUser({ auth_method: 'certificate', certificate_subject_line: line }, newCtx));
    expect(result.record).toMatchObject({
      name: 'alice',
      auth_method: 'certificate',
      certificate_subject_line: line,
      email: '',
      role: 'none',
      role_uids: [6],
    });
    expect(DEFAULT_CERTIFICATE_USER_ROLE).toBe('none');
  });

  it('gives a certificate user the role it is sent, and a regular user db_viewer by default (RS)', () => {
    const withRole = accepted(validateNewUser({ auth_method: 'certificate', certificate_subject_line: 'CN=a', role: 'db_member' }, newCtx));
    expect(withRole.record).toMatchObject({ name: 'a', role: 'db_member', role_uids: [4] });
    const regular = accepted(validateNewUser({ name: 'Bob', email: 'b@x.io', password: GOOD_PASSWORD }, newCtx));
    expect(regular.record).toMatchObject({ role: 'db_viewer' });
  });

  it('keeps an explicit name, and refuses a CN that cannot be a name, asking for one', () => {
    expect(
      accepted(validateNewUser({ name: 'svc', auth_method: 'certificate', certificate_subject_line: 'CN=été' }, newCtx)).record.name,
    ).toBe('svc');
    const result = validateNewUser({ auth_method: 'certificate', certificate_subject_line: 'CN=été, O=x' }, newCtx);
    expect(result).toMatchObject({ ok: false, error_code: 'invalid_schema' });
    if (!result.ok) expect(result.description).toContain('"été" is not a valid user name: send a name');
  });

  it('keeps alert preferences', () => {
    const result = accepted(
      validateNewUser(
        {
          name: 'Bob',
          email: 'b@x.io',
          password: GOOD_PASSWORD,
          email_alerts: false,
          bdbs_email_alerts: ['1', '2'],
          cluster_email_alerts: true,
        },
        newCtx,
      ),
    );
    expect(result.record).toMatchObject({ email_alerts: false, bdbs_email_alerts: ['1', '2'], cluster_email_alerts: true });
  });
});

describe('applyUserUpdate', () => {
  const later = { ...ctx, now: new Date('2025-12-01T10:00:00Z') };

  it('changes only what the patch names and keeps the password hash', () => {
    const result = accepted(applyUserUpdate(admin(), { name: 'Root', email_alerts: false }, later));
    expect(result.passwordToHash).toBeUndefined();
    expect(result.record).toEqual({ ...admin(), name: 'Root', email_alerts: false });
  });

  it('does not modify the existing record', () => {
    const existing = admin();
    accepted(applyUserUpdate(existing, { name: 'Root', role: 'db_viewer' }, later));
    expect(existing).toEqual(admin());
  });

  it('sets a new password: hash pending, issue date now, status active', () => {
    const result = accepted(applyUserUpdate({ ...admin(), status: 'locked' }, { password: GOOD_PASSWORD }, later));
    expect(result.passwordToHash).toBe(GOOD_PASSWORD);
    expect(result.record).not.toHaveProperty('password_hash');
    expect(result.record).toMatchObject({ password_issue_date: '2025-12-01T10:00:00Z', status: 'active' });
  });

  it('checks a new password against the policy and the (new) email', () => {
    expect(applyUserUpdate(admin(), { password: 'short' }, later)).toMatchObject({
      ok: false,
      error_code: 'password_not_complex',
    });
    expect(applyUserUpdate(admin(), { email: 'z@y.io', password: 'Aa1!z@y.io' }, later)).toMatchObject({
      ok: false,
      error_code: 'password_not_complex',
    });
  });

  it('keeps role and role_uids consistent when either changes', () => {
    expect(accepted(applyUserUpdate(admin(), { role: 'cluster_member' }, later)).record).toMatchObject({
      role: 'cluster_member',
      role_uids: [2],
    });
    expect(accepted(applyUserUpdate(admin(), { role_uids: [7] }, later)).record).toMatchObject({
      role: 'user_manager',
      role_uids: [7],
    });
    expect(applyUserUpdate(admin(), { role_uids: [42] }, later)).toMatchObject({ ok: false, error_code: 'unknown_role' });
  });

  it('converts a regular user to certificate and drops the password hash', () => {
    const result = accepted(
      applyUserUpdate(admin(), { auth_method: 'certificate', certificate_subject_line: 'CN=admin,O=Acme' }, later),
    );
    expect(result.passwordToHash).toBeUndefined();
    expect(result.record).not.toHaveProperty('password_hash');
    expect(result.record).toMatchObject({ auth_method: 'certificate', certificate_subject_line: 'CN=admin,O=Acme' });
  });

  it('refuses the conversion to certificate without a valid subject line, or with a password', () => {
    expect(applyUserUpdate(admin(), { auth_method: 'certificate' }, later)).toMatchObject({
      ok: false,
      error_code: 'invalid_subject_line',
    });
    expect(
      applyUserUpdate(admin(), { auth_method: 'certificate', certificate_subject_line: 'O=Acme,CN=admin' }, later),
    ).toMatchObject({ ok: false, error_code: 'invalid_subject_line' });
    expect(
      applyUserUpdate(
        admin(),
        { auth_method: 'certificate', certificate_subject_line: 'CN=admin', password: GOOD_PASSWORD },
        later,
      ),
    ).toMatchObject({ ok: false, error_code: 'invalid_schema' });
  });

  it('refuses a password for a certificate user', () => {
    expect(applyUserUpdate(certUser(), { password: GOOD_PASSWORD }, later)).toMatchObject({
      ok: false,
      error_code: 'invalid_schema',
    });
  });

  it('lets a certificate user change the subject line, validated', () => {
    expect(accepted(applyUserUpdate(certUser(), { certificate_subject_line: 'CN=alice2' }, later)).record).toMatchObject({
      certificate_subject_line: 'CN=alice2',
    });
    expect(accepted(applyUserUpdate(certUser(), { certificate_subject_line: 'CN=a, O=b' }, later)).record).toMatchObject({
      certificate_subject_line: 'CN=a, O=b',
    });
    expect(applyUserUpdate(certUser(), { certificate_subject_line: 'O=b, CN=a' }, later)).toMatchObject({
      ok: false,
      error_code: 'invalid_subject_line',
    });
  });

  it('converts a certificate user to regular only with a password and an email', () => {
    expect(applyUserUpdate(certUser(), { auth_method: 'regular', email: 'alice@x.io' }, later)).toMatchObject({
      ok: false,
      error_code: 'missing_password',
    });
    expect(applyUserUpdate(certUser(), { auth_method: 'regular', password: GOOD_PASSWORD }, later)).toMatchObject({
      ok: false,
      error_code: 'invalid_schema',
    });
    const result = accepted(
      applyUserUpdate(certUser(), { auth_method: 'regular', email: 'alice@x.io', password: GOOD_PASSWORD }, later),
    );
    expect(result.passwordToHash).toBe(GOOD_PASSWORD);
    expect(result.record).toMatchObject({
      auth_method: 'regular',
      certificate_subject_line: '',
      email: 'alice@x.io',
      password_issue_date: '2025-12-01T10:00:00Z',
    });
  });

  it('refuses a subject line for a regular user', () => {
    expect(applyUserUpdate(admin(), { certificate_subject_line: 'CN=admin' }, later)).toMatchObject({
      ok: false,
      error_code: 'invalid_schema',
    });
    expect(applyUserUpdate(admin(), { certificate_subject_line: '' }, later).ok).toBe(true);
  });

  it('refuses clearing the email of a regular user and invalid names', () => {
    expect(applyUserUpdate(admin(), { email: '' }, later)).toMatchObject({ ok: false, error_code: 'invalid_schema' });
    expect(applyUserUpdate(admin(), { name: '<b>' }, later)).toMatchObject({ ok: false, error_code: 'invalid_schema' });
  });
});

describe('completeUserRecord', () => {
  it('returns the record unchanged when there is no password to hash', async () => {
    const result = accepted(applyUserUpdate(admin(), { name: 'Root' }, ctx));
    expect(await completeUserRecord(result)).toBe(result.record);
  });
});
