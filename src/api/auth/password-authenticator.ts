// Basic auth (email + password) with the cluster's lockout policy. Verified credentials are cached for a
// short time under an HMAC of the credentials, so keep-alive clients do not pay the slow hash per request;
// a password change invalidates the entry (the cached hash must still be the user's current hash).
//
// Lockout: an attempt that needs the slow hash first reserves a slot in the user's failure counter with
// compare-and-swap (reserveAttempt); the reservation is the failure unless the password turns out right, which
// clears the counter. So parallel guesses are counted before any hash runs and can never exceed the
// threshold, and the attempt that reaches it locks the account before its own hash. The database proxy logs
// password users in through checkUserPassword: the same counter and lock, so a locked user cannot log in
// anywhere and guesses through a database count toward the same lockout.
import { createHmac, randomBytes } from 'node:crypto';
import type { ClusterStore } from '../../store/cluster-store.js';
import { getJson } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import type { Clock } from '../../lib/clock.js';
import { ApiError } from '../../lib/api-error.js';
import { verifyPassword, isPasswordExpired, hashPassword } from '../../domain/passwords.js';
import type { UserRecord } from '../../domain/users.js';
import type { ClusterDocument, ClusterPolicy } from '../../domain/cluster-settings.js';
import { DEFAULT_CLUSTER_POLICY } from '../../domain/cluster-settings.js';
import type { UsersRepository } from '../state/users-repository.js';

interface LoginFailures {
  count: number;
  first_failure_at: string;
  /** ISO time until which the account is locked; 'admin' when only an admin can release it. */
  locked_until: string | null;
}

interface CacheEntry {
  uid: number;
  passwordHash: string;
  expiresAt: number;
}

export type PasswordVerdict = 'ok' | 'wrong' | 'locked';

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

export class PasswordAuthenticator {
  private readonly cacheSecret = randomBytes(32);
  private readonly cache = new Map<string, CacheEntry>();
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly store: ClusterStore,
    private readonly users: UsersRepository,
    private readonly clock: Clock,
  ) {}

  /** Returns the user or throws 401 (unauthenticated, user_locked, password_expired). */
  async authenticate(email: string, password: string, options: { allowExpired: boolean; cluster: ClusterDocument | undefined }): Promise<UserRecord> {
    const { cluster } = options;
    if (cluster?.control_plane_basic_authentication === false) {
      throw new ApiError(401, 'unauthenticated', 'Basic authentication is disabled on this cluster');
    }
    const user = await this.users.findByEmail(email);
    if (user === undefined || user.auth_method !== 'regular' || user.password_hash === undefined) {
      // Same slow work as a real check, so response time does not reveal which emails exist.
      await verifyPassword(password, await this.getDummyHash());
      throw new ApiError(401, 'unauthenticated', 'Invalid email or password');
    }
    const now = this.clock.now();
    const verdict = await this.checkPassword(user, password, now);
    if (verdict === 'locked') throw new ApiError(401, 'user_locked', 'The account is locked after too many failed logins');
    if (verdict === 'wrong') throw new ApiError(401, 'unauthenticated', 'Invalid email or password');
    if (!options.allowExpired && isPasswordExpired(user.password_issue_date, cluster?.password_expiration_duration ?? 0, now)) {
      throw new ApiError(401, 'password_expired', 'The password has expired; change it with PUT /v1/users/password');
    }
    return user;
  }

  /** Whether the user is currently locked out (for the user object's status field). */
  async isLocked(uid: number): Promise<boolean> {
    return isLocked(await getJson<LoginFailures>(this.store, keys.loginFailures(uid)), this.clock.now());
  }

  /**
   * The database proxy's password check for user uid (a regular user): 'ok', 'wrong', 'locked', or 'expired'
   * (right password, expired by the cluster's password_expiration_duration: refused on databases too).
   */
  async checkUserPassword(uid: number, password: string): Promise<PasswordVerdict | 'expired'> {
    const user = await this.users.get(uid);
    if (user === undefined || user.auth_method !== 'regular' || user.password_hash === undefined) return 'wrong';
    const now = this.clock.now();
    const verdict = await this.checkPassword(user, password, now);
    if (verdict !== 'ok') return verdict;
    const cluster = await getJson<ClusterDocument>(this.store, keys.cluster);
    return isPasswordExpired(user.password_issue_date, cluster?.password_expiration_duration ?? 0, now) ? 'expired' : 'ok';
  }

  /** The lockout policy around one password check (see the module comment). */
  private async checkPassword(user: UserRecord, password: string, now: Date): Promise<PasswordVerdict> {
    const key = keys.loginFailures(user.uid);
    const failures = await getJson<LoginFailures>(this.store, key);
    if (isLocked(failures, now)) return 'locked';
    const cacheKey = createHmac('sha256', this.cacheSecret).update(`${user.uid}\0${password}`).digest('base64');
    const entry = this.cache.get(cacheKey);
    if (entry !== undefined && entry.uid === user.uid && entry.passwordHash === user.password_hash && entry.expiresAt > Date.now()) {
      // A cached right password costs no hash and so needs no slot.
      if (failures !== undefined) await this.store.txn({ success: [{ type: 'delete', key }] });
      return 'ok';
    }
    if (!(await this.reserveAttempt(user, now))) return 'locked';
    if (!(await verifyPassword(password, user.password_hash!))) return 'wrong';
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, { uid: user.uid, passwordHash: user.password_hash!, expiresAt: Date.now() + CACHE_TTL_MS });
    await this.store.txn({ success: [{ type: 'delete', key }] });
    return 'ok';
  }

  /**
   * Counts the attempt as a failure before its hash runs, with compare-and-swap on the counter so parallel
   * attempts cannot overwrite each other's increments. False (and nothing counted) when the user is locked,
   * including by a parallel attempt that took the last slot.
   */
  private async reserveAttempt(user: UserRecord, now: Date): Promise<boolean> {
    const policy = (await getJson<ClusterPolicy>(this.store, keys.policy)) ?? DEFAULT_CLUSTER_POLICY;
    const key = keys.loginFailures(user.uid);
    for (;;) {
      const current = await this.store.get(key);
      const previous = current === undefined ? undefined : (JSON.parse(current.value) as LoginFailures);
      if (isLocked(previous, now)) return false;
      const windowExpired =
        previous === undefined || now.getTime() - Date.parse(previous.first_failure_at) > policy.login_lockout_counter_reset_after * 1000;
      const next: LoginFailures = windowExpired
        ? { count: 1, first_failure_at: now.toISOString(), locked_until: null }
        : { ...previous, count: previous.count + 1, locked_until: null };
      if (policy.login_lockout_threshold > 0 && next.count >= policy.login_lockout_threshold) {
        next.locked_until =
          policy.login_lockout_duration === 0 ? 'admin' : new Date(now.getTime() + policy.login_lockout_duration * 1000).toISOString();
      }
      const result = await this.store.txn({
        compare: [{ key, target: 'mod', op: '==', value: current?.modRevision ?? 0 }],
        success: [{ type: 'put', key, value: JSON.stringify(next) }],
      });
      if (result.succeeded) return true;
    }
  }


  private getDummyHash(): Promise<string> {
    const hash = this.dummyHash ?? hashPassword(randomBytes(16).toString('hex'));
    this.dummyHash = hash;
    return hash;
  }
}

function isLocked(failures: LoginFailures | undefined, now: Date): boolean {
  if (failures?.locked_until == null) return false;
  return failures.locked_until === 'admin' || Date.parse(failures.locked_until) > now.getTime();
}
