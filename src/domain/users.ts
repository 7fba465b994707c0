// Users: the stored document, its wire form (fixtures/rs-responses/user_single.json) and the rules of
// POST /v1/users and PUT /v1/users/{uid} that need no store (digest §4.3, §5.2, §6.2; DESIGN.md).
//
// The rule functions are pure and synchronous. A new password is not hashed here: an accepted result carries
// it as `passwordToHash` and its record has no password_hash yet, so the caller hashes after validation
// (`completeUserRecord(result)` does it) and a forgotten hash can only lock the user out, never keep an old
// password. Uniqueness (email, name, subject line), the last-admin rule, self-service limits and
// new_password_same_as_current need the store or the caller, and are checked there.
import type { ErrorCode } from '../lib/api-error.js';
import { checkSubjectLine, SUBJECT_LINE_TEMPLATE, type SubjectLine } from './rfc2253.js';
import { checkPasswordPolicy, hashPassword, isPasswordExpired, type PasswordPolicy } from './passwords.js';
import { DEFAULT_ROLES, isRoleName, type RoleName } from './rbac.js';

export type AuthMethod = 'regular' | 'certificate';
export type UserStatus = 'active' | 'locked' | 'password_expired';

/** The user document kept in the store under keys.user(uid). */
export interface UserRecord {
  uid: number;
  name: string;
  email: string;
  role: RoleName;
  role_uids: number[];
  auth_method: AuthMethod;
  /** RFC 2253 subject for certificate users, as the user sent it (compared canonically); "" for regular users. */
  certificate_subject_line: string;
  email_alerts: boolean;
  bdbs_email_alerts?: string[];
  cluster_email_alerts?: boolean;
  /** scrypt hash (passwords.ts); absent for certificate users. */
  password_hash?: string;
  /** Written by older versions only (an unsalted SHA-256 of the password); never read, dropped on change. */
  redis_password_sha256?: string;
  /** When the password was last set (creation time for certificate users), `2025-10-14T00:01:06Z` form. */
  password_issue_date: string;
  status: UserStatus;
  /** Unix seconds of the last successful authentication. */
  last_login?: number;
}

/** GET /v1/users/{uid}: the fixture's fields in its order, plus the optional ones that are set. */
export interface UserResponse {
  auth_method: AuthMethod;
  certificate_subject_line: string;
  email: string;
  email_alerts: boolean;
  name: string;
  password_issue_date: string;
  role: RoleName;
  role_uids: number[];
  status: UserStatus;
  uid: number;
  bdbs_email_alerts?: string[];
  cluster_email_alerts?: boolean;
  last_login?: number;
}

/** The writable user fields of a POST/PUT body that these rules read. Types are re-checked at run time. */
export interface UserInput {
  name?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
  role?: string | undefined;
  role_uids?: number[] | undefined;
  auth_method?: string | undefined;
  certificate_subject_line?: string | undefined;
  email_alerts?: boolean | undefined;
  bdbs_email_alerts?: string[] | undefined;
  cluster_email_alerts?: boolean | undefined;
}

/** A role as far as these rules care: its uid and management role. */
export interface RoleRef {
  uid: number;
  management: RoleName;
}

export interface UserRulesContext {
  now: Date;
  /** Every role of the cluster, to resolve role_uids and role. */
  roles: readonly RoleRef[];
  /** The cluster's password_complexity and password_min_length. */
  policy: PasswordPolicy;
}

export interface NewUserContext extends UserRulesContext {
  /** The uid the store allocated (or the one the request asked for). */
  uid: number;
}

export interface UserRuleFailure {
  ok: false;
  error_code: ErrorCode;
  description: string;
}

export interface UserRuleSuccess {
  ok: true;
  /** The record to store. When passwordToHash is set it has no password_hash: hash, then store. */
  record: UserRecord;
  passwordToHash: string | undefined;
}

export type UserRuleResult = UserRuleSuccess | UserRuleFailure;

/** Role of a user created without role or role_uids (digest §6.2). */
export const DEFAULT_USER_ROLE: RoleName = 'db_viewer';

const EMAIL_PATTERN = /^$|^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9.-]+$/;
const NAME_PATTERN = /^[ -!#-%'-;=?-~]+$/;

function fail(error_code: ErrorCode, description: string): UserRuleFailure {
  return { ok: false, error_code, description };
}

/** `2025-10-14T00:01:06Z`: ISO 8601 without milliseconds, as RS prints password_issue_date. */
export function formatIssueDate(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function checkAuthMethod(value: unknown): AuthMethod | UserRuleFailure {
  if (value === 'regular' || value === 'certificate') return value;
  return fail('invalid_schema', 'auth_method must be "regular" or "certificate"');
}

function checkName(value: unknown): UserRuleFailure | undefined {
  if (typeof value !== 'string' || value.length < 1 || value.length > 255 || !NAME_PATTERN.test(value)) {
    return fail(
      'invalid_schema',
      'name must be 1-255 printable ASCII characters other than the double quote, &, < and >',
    );
  }
  return undefined;
}

function checkEmail(value: unknown): UserRuleFailure | undefined {
  if (typeof value !== 'string' || !EMAIL_PATTERN.test(value)) {
    return fail('invalid_schema', 'email must be an ASCII email address such as user@example.com');
  }
  return undefined;
}

function checkAlerts(input: UserInput): UserRuleFailure | undefined {
  if (input.email_alerts !== undefined && typeof input.email_alerts !== 'boolean') {
    return fail('invalid_schema', 'email_alerts must be a boolean');
  }
  if (input.cluster_email_alerts !== undefined && typeof input.cluster_email_alerts !== 'boolean') {
    return fail('invalid_schema', 'cluster_email_alerts must be a boolean');
  }
  const bdbs: unknown = input.bdbs_email_alerts;
  if (bdbs !== undefined) {
    if (!Array.isArray(bdbs) || !bdbs.every((v) => typeof v === 'string') || new Set(bdbs).size !== bdbs.length) {
      return fail('invalid_schema', 'bdbs_email_alerts must be a list of distinct database uids (strings) or ["all"]');
    }
  }
  return undefined;
}

/** The uid of the role to give a user who asked for a management role by name. */
function roleUidFor(management: RoleName, roles: readonly RoleRef[]): number | undefined {
  const predefined = DEFAULT_ROLES.find((r) => r.management === management);
  if (predefined && roles.some((r) => r.uid === predefined.uid && r.management === management)) return predefined.uid;
  const candidates = roles.filter((r) => r.management === management).map((r) => r.uid);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/**
 * Keeps role and role_uids consistent: role_uids decide (role = management of the first uid; a role sent
 * alongside must agree); a role alone maps to the predefined role with that management.
 */
function resolveRoles(
  role: unknown,
  roleUids: unknown,
  roles: readonly RoleRef[],
): { role: RoleName; role_uids: number[] } | UserRuleFailure {
  if (role !== undefined && !isRoleName(role)) {
    return fail('invalid_schema', `role must be one of none, db_viewer, db_member, cluster_viewer, cluster_member, user_manager, admin`);
  }
  if (roleUids !== undefined) {
    if (
      !Array.isArray(roleUids) ||
      roleUids.length === 0 ||
      !roleUids.every((uid) => Number.isInteger(uid) && uid >= 1) ||
      new Set(roleUids).size !== roleUids.length
    ) {
      return fail('invalid_schema', 'role_uids must be a non-empty list of distinct role uids');
    }
    const uids = roleUids as number[];
    const found = uids.map((uid) => roles.find((r) => r.uid === uid));
    const missing = uids.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) return fail('unknown_role', `Role uid ${missing.join(', ')} does not exist`);
    const management = (found[0] as RoleRef).management;
    if (role !== undefined && role !== management) {
      return fail(
        'invalid_schema',
        `role "${role}" does not match role_uids (role ${uids[0]} has management role "${management}")`,
      );
    }
    return { role: management, role_uids: [...uids] };
  }
  const wanted: RoleName = role ?? DEFAULT_USER_ROLE;
  const uid = roleUidFor(wanted, roles);
  if (uid === undefined) return fail('unknown_role', `No role with management role "${wanted}" exists`);
  return { role: wanted, role_uids: [uid] };
}

/** Role of a certificate user created without role or role_uids: none until an operator grants one. */
export const DEFAULT_CERTIFICATE_USER_ROLE: RoleName = 'none';

const SUBJECT_LINE_FORM = `expected form: "${SUBJECT_LINE_TEMPLATE}", most specific attribute first, as "openssl x509 -noout -subject -nameopt RFC2253" prints it`;

function checkSubjectLineField(value: unknown): { line: string; subject: SubjectLine } | UserRuleFailure {
  if (value === undefined || value === '') {
    return fail('invalid_subject_line', `Certificate users need a certificate_subject_line; ${SUBJECT_LINE_FORM}`);
  }
  if (typeof value !== 'string') return fail('invalid_subject_line', 'certificate_subject_line must be a string');
  const checked = checkSubjectLine(value);
  if (!checked.ok) {
    return fail('invalid_subject_line', `certificate_subject_line is not valid: ${checked.error}; ${SUBJECT_LINE_FORM}`);
  }
  return { line: value, subject: checked.value };
}

const PASSWORD_WITH_CERTIFICATE =
  'Certificate users authenticate with their client certificate and take no password; omit password';
const SUBJECT_LINE_WITH_REGULAR = 'certificate_subject_line is only for users with auth_method "certificate"';

/** Checks a new password of a regular user; returns it when acceptable. */
function checkNewPassword(password: unknown, policy: PasswordPolicy, email: string): string | UserRuleFailure {
  if (typeof password !== 'string') return fail('invalid_schema', 'password must be a string');
  const verdict = checkPasswordPolicy(password, policy, email);
  return verdict.ok ? password : fail('password_not_complex', verdict.description);
}

function isFailure(value: unknown): value is UserRuleFailure {
  return typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === false;
}

function applyAlerts(record: UserRecord, input: UserInput): void {
  if (input.email_alerts !== undefined) record.email_alerts = input.email_alerts;
  if (input.bdbs_email_alerts !== undefined) record.bdbs_email_alerts = [...input.bdbs_email_alerts];
  if (input.cluster_email_alerts !== undefined) record.cluster_email_alerts = input.cluster_email_alerts;
}

/**
 * POST /v1/users. Regular users need an email (their Basic-auth login) and a password that passes the
 * policy; certificate users need a valid certificate_subject_line and must not send a password. A
 * certificate user sent without a name is named after the CN of its subject, and without role or role_uids
 * gets the role `none` (DEFAULT_CERTIFICATE_USER_ROLE): it can log in but do nothing until granted a role.
 */
export function validateNewUser(input: UserInput, ctx: NewUserContext): UserRuleResult {
  const authMethod = checkAuthMethod(input.auth_method ?? 'regular');
  if (isFailure(authMethod)) return authMethod;
  let name: unknown = input.name;
  if (name === undefined && authMethod === 'certificate') {
    // The reference's example body has no name: a certificate user is named after the CN of its subject.
    const line = checkSubjectLineField(input.certificate_subject_line);
    if (isFailure(line)) return line;
    name = line.subject.cn;
    if (checkName(name)) {
      return fail(
        'invalid_schema',
        `name defaults to the CN of certificate_subject_line, and "${line.subject.cn}" is not a valid user name: send a name (1-255 printable ASCII characters other than the double quote, &, < and >)`,
      );
    }
  }
  const nameError = checkName(name);
  if (nameError) return nameError;
  const email = input.email ?? '';
  const emailError = checkEmail(email);
  if (emailError) return emailError;
  if (authMethod === 'regular' && email === '') {
    return fail('invalid_schema', 'Regular users need an email: it is their login name');
  }
  const alertsError = checkAlerts(input);
  if (alertsError) return alertsError;
  const defaultRole = authMethod === 'certificate' && input.role_uids === undefined ? DEFAULT_CERTIFICATE_USER_ROLE : undefined;
  const roles = resolveRoles(input.role ?? defaultRole, input.role_uids, ctx.roles);
  if (isFailure(roles)) return roles;

  let subjectLine = '';
  let passwordToHash: string | undefined;
  if (authMethod === 'certificate') {
    if (input.password !== undefined) return fail('invalid_schema', PASSWORD_WITH_CERTIFICATE);
    const line = checkSubjectLineField(input.certificate_subject_line);
    if (isFailure(line)) return line;
    subjectLine = line.line;
  } else {
    if (input.certificate_subject_line !== undefined && input.certificate_subject_line !== '') {
      return fail('invalid_schema', SUBJECT_LINE_WITH_REGULAR);
    }
    if (input.password === undefined) return fail('missing_password', 'Regular users need a password');
    const password = checkNewPassword(input.password, ctx.policy, email);
    if (isFailure(password)) return password;
    passwordToHash = password;
  }

  const record: UserRecord = {
    uid: ctx.uid,
    name: name as string,
    email,
    role: roles.role,
    role_uids: roles.role_uids,
    auth_method: authMethod,
    certificate_subject_line: subjectLine,
    email_alerts: true,
    password_issue_date: formatIssueDate(ctx.now),
    status: 'active',
  };
  applyAlerts(record, input);
  return { ok: true, record, passwordToHash };
}

/**
 * PUT /v1/users/{uid}: applies the fields present in patch to existing. Switching to certificate drops the
 * password hash (and refuses a password); switching to regular needs a password. A new password resets
 * password_issue_date and the stored status to active (the admin unlock of digest §5.3).
 */
export function applyUserUpdate(existing: UserRecord, patch: UserInput, ctx: UserRulesContext): UserRuleResult {
  const authMethod = checkAuthMethod(patch.auth_method ?? existing.auth_method);
  if (isFailure(authMethod)) return authMethod;
  if (patch.name !== undefined) {
    const nameError = checkName(patch.name);
    if (nameError) return nameError;
  }
  if (patch.email !== undefined) {
    const emailError = checkEmail(patch.email);
    if (emailError) return emailError;
  }
  const email = patch.email ?? existing.email;
  if (authMethod === 'regular' && email === '') {
    return fail('invalid_schema', 'Regular users need an email: it is their login name');
  }
  const alertsError = checkAlerts(patch);
  if (alertsError) return alertsError;
  const roles =
    patch.role !== undefined || patch.role_uids !== undefined
      ? resolveRoles(patch.role, patch.role_uids, ctx.roles)
      : { role: existing.role, role_uids: [...existing.role_uids] };
  if (isFailure(roles)) return roles;

  const record: UserRecord = {
    ...existing,
    name: patch.name ?? existing.name,
    email,
    role: roles.role,
    role_uids: roles.role_uids,
    auth_method: authMethod,
  };
  if (existing.bdbs_email_alerts) record.bdbs_email_alerts = [...existing.bdbs_email_alerts];
  applyAlerts(record, patch);

  let passwordToHash: string | undefined;
  if (authMethod === 'certificate') {
    if (patch.password !== undefined) return fail('invalid_schema', PASSWORD_WITH_CERTIFICATE);
    const line = checkSubjectLineField(patch.certificate_subject_line ?? existing.certificate_subject_line);
    if (isFailure(line)) return line;
    record.certificate_subject_line = line.line;
    delete record.password_hash;
  } else {
    if (patch.certificate_subject_line !== undefined && patch.certificate_subject_line !== '') {
      return fail('invalid_schema', SUBJECT_LINE_WITH_REGULAR);
    }
    record.certificate_subject_line = '';
    if (patch.password === undefined && existing.auth_method === 'certificate') {
      return fail('missing_password', 'Converting a certificate user to a regular user needs a password');
    }
    if (patch.password !== undefined) {
      const password = checkNewPassword(patch.password, ctx.policy, email);
      if (isFailure(password)) return password;
      passwordToHash = password;
      delete record.password_hash;
      record.password_issue_date = formatIssueDate(ctx.now);
      record.status = 'active';
    }
  }
  return { ok: true, record, passwordToHash };
}

/** Hashes the accepted password (if any) into the record; the record to store. */
export async function completeUserRecord(result: UserRuleSuccess): Promise<UserRecord> {
  if (result.passwordToHash === undefined) return result.record;
  // No redis form of the password any more (databases get a node secret, the proxy checks the password):
  // a record from an older version loses its unsalted SHA-256 at the next password change.
  const { redis_password_sha256: _unused, ...record } = result.record;
  return { ...record, password_hash: await hashPassword(result.passwordToHash) };
}

export interface UserResponseContext {
  now: Date;
  /** The cluster's password_expiration_duration in days (0 = never). */
  passwordExpirationDays: number;
  /** Whether the lockout policy currently locks the user; defaults to the stored status. */
  locked?: boolean | undefined;
}

/**
 * The wire form of a user: never the password hash. Status is computed: locked, else password_expired
 * (regular users whose password is older than the expiration duration), else active.
 */
export function toUserResponse(record: UserRecord, ctx: UserResponseContext): UserResponse {
  const locked = ctx.locked ?? record.status === 'locked';
  const expired =
    record.auth_method === 'regular' &&
    isPasswordExpired(record.password_issue_date, ctx.passwordExpirationDays, ctx.now);
  const response: UserResponse = {
    auth_method: record.auth_method,
    certificate_subject_line: record.certificate_subject_line ?? '',
    email: record.email,
    email_alerts: record.email_alerts,
    name: record.name,
    password_issue_date: record.password_issue_date,
    role: record.role,
    role_uids: [...record.role_uids],
    status: locked ? 'locked' : expired ? 'password_expired' : 'active',
    uid: record.uid,
  };
  if (record.bdbs_email_alerts !== undefined) response.bdbs_email_alerts = [...record.bdbs_email_alerts];
  if (record.cluster_email_alerts !== undefined) response.cluster_email_alerts = record.cluster_email_alerts;
  if (record.last_login !== undefined) response.last_login = record.last_login;
  return response;
}
