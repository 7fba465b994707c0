// Which Redis ACL users a database has (digest §7.3, DESIGN.md): every user holding a role that the bdb's
// roles_permissions binds to a Redis ACL gets that ACL on that database; a user with several bound roles
// gets their union (the first ACL as the root permissions, each further one as a Redis 7 selector).
//
// Password users log in with `AUTH <name> <password>` (the redis username is their name). Certificate users
// never AUTH themselves: the proxy logs their connection in as an internal user, `__cert_<uid>`, whose
// secret only certplane knows.
import type { BdbRecord } from './databases.js';
import type { RedisAclRecord } from './redis-acls.js';
import type { UserRecord } from './users.js';
import { canonicalSubjectLine } from './rfc2253.js';

export interface DatabaseAclUser {
  kind: 'password' | 'certificate';
  user_uid: number;
  /** The redis username. */
  username: string;
  /** Certificate users: their subject line in canonical form (rfc2253.ts canonicalSubject), the proxy's map key. */
  subject_line?: string;
  /** Password users: SHA-256 (hex) of their password, the form redis keeps (`#<hex>`). */
  password_sha256?: string;
  /** One rule string per bound ACL, in roles_permissions order. */
  rules: string[];
}

/** Prefix of usernames certplane reserves for itself on every redis-server. */
export const INTERNAL_USER_PREFIX = '__';

export function certificateUsername(userUid: number): string {
  return `${INTERNAL_USER_PREFIX}cert_${userUid}`;
}

/** Redis usernames cannot hold spaces or NULs; certplane's own names start with "__". */
export function isUsableRedisUsername(name: string): boolean {
  return name !== '' && name !== 'default' && !name.startsWith(INTERNAL_USER_PREFIX) && !/[\s\0]/.test(name);
}

export type UserWithRedisPassword = UserRecord & { redis_password_sha256?: string };

export function databaseAclUsers(
  bdb: Pick<BdbRecord, 'roles_permissions'>,
  acls: readonly RedisAclRecord[],
  users: readonly UserWithRedisPassword[],
): DatabaseAclUser[] {
  const aclByUid = new Map(acls.map((acl) => [acl.uid, acl]));
  const result: DatabaseAclUser[] = [];
  for (const user of users) {
    const rules: string[] = [];
    for (const binding of bdb.roles_permissions) {
      if (!user.role_uids.includes(binding.role_uid)) continue;
      const acl = aclByUid.get(binding.redis_acl_uid);
      if (acl !== undefined && !rules.includes(acl.acl)) rules.push(acl.acl);
    }
    if (rules.length === 0) continue;
    if (user.auth_method === 'certificate') {
      const subjectLine = canonicalSubjectLine(user.certificate_subject_line);
      if (subjectLine === undefined) continue;
      result.push({ kind: 'certificate', user_uid: user.uid, username: certificateUsername(user.uid), subject_line: subjectLine, rules });
    } else if (user.redis_password_sha256 !== undefined && isUsableRedisUsername(user.name)) {
      result.push({ kind: 'password', user_uid: user.uid, username: user.name, password_sha256: user.redis_password_sha256, rules });
    }
  }
  return result;
}

/** The ACL rules of one user as `ACL SETUSER` arguments after credentials: root rules, then selectors. */
export function aclRuleArguments(rules: readonly string[]): string[] {
  const [root, ...selectors] = rules;
  const args = root === undefined ? [] : root.split(/[ \t]+/).filter((t) => t !== '');
  for (const selector of selectors) args.push(`(${selector.trim()})`);
  return args;
}
