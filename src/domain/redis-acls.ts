// Redis ACLs (digest §6.3): named Redis ACL rule strings that roles are bound to per database
// (bdb.roles_permissions), the predefined ones, and the syntax a rule string may use.
//
// A rule string is what follows the user name and password in `ACL SETUSER`: command, key and channel rules
// only. User state and credentials (on/off, passwords, nopass, reset, selectors) belong to certplane, which
// provisions each database user itself, so they are refused here.

export interface RedisAclRecord {
  uid: number;
  name: string;
  acl: string;
}

/**
 * Built in, read-only, never stored (RS ships "Full Access" and friends; uids below 100 are reserved). The uids
 * are the reference's: 1 Full Access, 2 Read Only, 3 Not Dangerous, so a script that binds uid 2 gets read-only.
 * Stores written before this order (2 was Not Dangerous) are migrated at start (src/node/migrate-store.ts).
 */
export const PREDEFINED_REDIS_ACLS: readonly Readonly<RedisAclRecord>[] = Object.freeze([
  { uid: 1, name: 'Full Access', acl: '+@all ~* &*' },
  { uid: 2, name: 'Read Only', acl: '+@read ~* &*' },
  { uid: 3, name: 'Not Dangerous', acl: '+@all -@dangerous ~* &*' },
]);

/** The uids of the predefined ACLs before they were put in the reference's order (for the start-time migration). */
export const LEGACY_REDIS_ACL_UID_SWAP: Readonly<Record<number, number>> = Object.freeze({ 2: 3, 3: 2 });

/** The first uid given to a user-defined Redis ACL. */
export const FIRST_CUSTOM_REDIS_ACL_UID = 100;

export function isPredefinedRedisAcl(uid: number): boolean {
  return PREDEFINED_REDIS_ACLS.some((acl) => acl.uid === uid);
}

export const REDIS_ACL_NAME_PATTERN = /^[a-zA-Z0-9_ [\]()@,.;#-]{1,255}$/;

const KEYWORDS = new Set(['allkeys', 'allcommands', 'nocommands', 'allchannels', 'resetkeys', 'resetchannels']);
const COMMAND_RULE = /^[+-]@?[a-zA-Z0-9_.:-]+(?:\|[a-zA-Z0-9_.:-]+)?$/;
/** Key patterns (`~`, `%R~`, `%W~`, `%RW~`) and channel patterns (`&`): printable, no spaces or quotes. */
const PATTERN_RULE = /^(?:~|%R~|%W~|%RW~|&)[!#-~]+$/;

export type AclRuleCheck = { ok: true; tokens: string[] } | { ok: false; description: string };

/** Checks the syntax of an ACL rule string such as `+@read +FT.SEARCH ~app:*`. */
export function checkAclRule(acl: string): AclRuleCheck {
  if (acl.length > 8192) return { ok: false, description: 'acl is longer than 8192 characters' };
  const tokens = acl.split(/[ \t]+/).filter((t) => t !== '');
  if (tokens.length === 0) return { ok: false, description: 'acl has no rules' };
  for (const token of tokens) {
    if (KEYWORDS.has(token.toLowerCase())) continue;
    if (COMMAND_RULE.test(token) || PATTERN_RULE.test(token)) continue;
    return {
      ok: false,
      description: `acl rule "${token.slice(0, 64)}" is not allowed: use command rules (+cmd, -cmd, +@category), key patterns (~pattern, %R~, %W~) and channel patterns (&pattern)`,
    };
  }
  return { ok: true, tokens };
}

export function checkRedisAclName(name: unknown): string | undefined {
  if (typeof name !== 'string' || !REDIS_ACL_NAME_PATTERN.test(name)) {
    return 'name must be 1-255 letters, digits, spaces and _ [ ] ( ) @ , . ; # -';
  }
  return undefined;
}

/** A database's role→ACL bindings written when uid 2 was Not Dangerous and 3 Read Only, in today's uids
 *  (the same ACLs stay bound); undefined when no binding names a swapped uid. */
export function migrateLegacyAclBindings<T extends { redis_acl_uid: number }>(bindings: readonly T[]): T[] | undefined {
  if (!bindings.some((b) => LEGACY_REDIS_ACL_UID_SWAP[b.redis_acl_uid] !== undefined)) return undefined;
  return bindings.map((b) => ({ ...b, redis_acl_uid: LEGACY_REDIS_ACL_UID_SWAP[b.redis_acl_uid] ?? b.redis_acl_uid }));
}
