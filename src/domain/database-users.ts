// Which Redis ACL users a database has (digest §7.3, DESIGN.md): every user holding a role that the bdb's
// roles_permissions binds to a Redis ACL gets that ACL on that database; a user with several bound roles
// gets their union (the first ACL as the root permissions, each further one as a Redis 7 selector).
//
// Every redis user is named by the certplane user's `name` (ACL WHOAMI, CLIENT LIST user=, ACL LOG show it),
// password and certificate users alike. Its redis password is a random secret only the node knows
// (agent/redis-secrets.ts): clients never AUTH against redis themselves. The proxy checks a password user's
// password with certplane's own check (same lockout as the REST API) and a certificate user's certificate,
// then logs the backend connection in with that secret. No password material of a certplane user reaches
// redis-server.
//
// Whatever ACL an operator binds, every user certplane provisions (the `default` user too) ends with
// DATA_PLANE_DENY, appended to the root rules and to every selector (selectors are additive in Redis 7: a
// selector could otherwise grant what the root denies).
import type { BdbRecord } from './databases.js';
import type { RedisAclRecord } from './redis-acls.js';
import type { UserRecord } from './users.js';
import { canonicalSubjectLine } from './rfc2253.js';

export interface DatabaseAclUser {
  kind: 'password' | 'certificate';
  user_uid: number;
  /** The certplane user's name. */
  name: string;
  /** The redis username: the name, or (when redis cannot take it) a stand-in, see redisUsernames. */
  username: string;
  /** Certificate users: their subject line in canonical form (rfc2253.ts canonicalSubject), the proxy's map key. */
  subject_line?: string;
  /** One rule string per bound ACL, in roles_permissions order. */
  rules: string[];
}

/** Prefix of usernames certplane reserves for itself on every redis-server. */
export const INTERNAL_USER_PREFIX = '__';

/**
 * Appended after the operator's rules of every provisioned user, root and each selector. Denied: reading or
 * changing ACL users (all of ACL but WHOAMI and CAT: LIST/GETUSER/USERS/DRYRUN show other users, LOG shows
 * their names and addresses, SETUSER/DELUSER/SAVE/LOAD change them), server configuration and code (CONFIG,
 * DEBUG, MODULE), stopping or re-pointing the server (SHUTDOWN, REPLICAOF/SLAVEOF, FAILOVER), the replication
 * stream (SYNC/PSYNC/REPLCONF: a full copy of the data regardless of key patterns), connections to other
 * hosts (MIGRATE), and persistence, which certplane runs itself (SAVE blocks every client; BGSAVE,
 * BGREWRITEAOF). Everything else follows the operator's ACL.
 */
export const DATA_PLANE_DENY: readonly string[] = Object.freeze([
  '-acl',
  '+acl|whoami',
  '+acl|cat',
  '-config',
  '-debug',
  '-module',
  '-shutdown',
  '-replicaof',
  '-slaveof',
  '-failover',
  '-sync',
  '-psync',
  '-replconf',
  '-migrate',
  '-save',
  '-bgsave',
  '-bgrewriteaof',
]);

/** Redis usernames cannot hold spaces or NULs; `default` and names starting with "__" are taken. */
export function isUsableRedisUsername(name: string): boolean {
  return name !== '' && name !== 'default' && !name.startsWith(INTERNAL_USER_PREFIX) && !/[\s\0]/.test(name);
}

/** The stand-in redis username of a user whose name redis cannot take (or that another user's name takes). */
export function fallbackUsername(userUid: number): string {
  return `${INTERNAL_USER_PREFIX}user_${userUid}`;
}

/**
 * Redis usernames for certplane names: the name itself when usable; spaces replaced by "_" when that is
 * usable and no other user's exact name; otherwise `__user_<uid>`.
 */
export function redisUsernames(users: readonly Pick<UserRecord, 'uid' | 'name'>[]): Map<number, string> {
  const exact = new Set(users.filter((u) => isUsableRedisUsername(u.name)).map((u) => u.name));
  const result = new Map<number, string>();
  const taken = new Map<string, number>();
  for (const user of users) {
    let candidate = user.name;
    if (!isUsableRedisUsername(candidate)) {
      const replaced = user.name.replace(/\s/g, '_');
      candidate = isUsableRedisUsername(replaced) && !exact.has(replaced) ? replaced : fallbackUsername(user.uid);
    }
    const holder = taken.get(candidate);
    if (holder !== undefined) {
      // Two stand-ins collide ("a b" and "a  b"): both fall back to their uid.
      result.set(holder, fallbackUsername(holder));
      candidate = fallbackUsername(user.uid);
    }
    taken.set(candidate, user.uid);
    result.set(user.uid, candidate);
  }
  return result;
}

export function databaseAclUsers(bdb: Pick<BdbRecord, 'roles_permissions'>, acls: readonly RedisAclRecord[], users: readonly UserRecord[]): DatabaseAclUser[] {
  const aclByUid = new Map(acls.map((acl) => [acl.uid, acl]));
  const bound: { user: UserRecord; rules: string[]; subjectLine?: string | undefined }[] = [];
  for (const user of users) {
    const rules: string[] = [];
    for (const binding of bdb.roles_permissions) {
      if (!user.role_uids.includes(binding.role_uid)) continue;
      const acl = aclByUid.get(binding.redis_acl_uid);
      if (acl !== undefined && !rules.includes(acl.acl)) rules.push(acl.acl);
    }
    if (rules.length === 0) continue;
    let subjectLine: string | undefined;
    if (user.auth_method === 'certificate') {
      // Keys of the proxy's user map: the canonical form, as the certificate's subject is looked up (rfc2253.ts).
      subjectLine = canonicalSubjectLine(user.certificate_subject_line);
      if (subjectLine === undefined) continue;
    } else if (user.password_hash === undefined) {
      continue;
    }
    bound.push({ user, rules, subjectLine });
  }
  const names = redisUsernames(bound.map((b) => b.user));
  return bound.map(({ user, rules, subjectLine }) => {
    const common = { user_uid: user.uid, name: user.name, username: names.get(user.uid) as string, rules };
    return subjectLine !== undefined ? { kind: 'certificate', ...common, subject_line: subjectLine } : { kind: 'password', ...common };
  });
}

/**
 * The ACL rules of one user as `ACL SETUSER` arguments after credentials: root rules, then one selector per
 * further ACL, each followed by DATA_PLANE_DENY. Without rules the user gets no commands but the deny's
 * re-grants (ACL WHOAMI, ACL CAT).
 */
export function aclRuleArguments(rules: readonly string[]): string[] {
  const [root, ...selectors] = rules;
  const args = root === undefined ? [] : root.split(/[ \t]+/).filter((t) => t !== '');
  args.push(...DATA_PLANE_DENY);
  for (const selector of selectors) args.push(`(${[selector.trim(), ...DATA_PLANE_DENY].join(' ')})`);
  return args;
}
