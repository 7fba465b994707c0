// Basic auth (email + password) with the cluster's lockout policy. Verified credentials are cached for a
// short time under an HMAC of the credentials, so keep-alive clients do not pay the slow hash per request;
// a password change invalidates the entry (the cached hash must still be the user's current hash).
//
// Lockout: an attempt that needs the slow hash first claims a slot (claimSlot): per user, one claim at a time
// reads the stored failure counter and counts it plus the attempts still hashing on this node. Stored failures
// at the threshold refuse the attempt as locked without any hash; while only the attempts in flight fill the
// threshold, the claim waits for one of them to end and counts again (so a burst of right passwords, such as
// keep-alive clients starting together, all get in; a burst of guesses still runs at most threshold hashes). A failure is then recorded in the store with
// compare-and-swap before its slot is released, so every attempt is always counted, in flight or stored, and
// parallel guesses cannot exceed the threshold. A right password writes nothing (no store write per login);
// the price is that on a cluster of N nodes, guesses sent to all nodes at once can reach N x threshold before
// the stored counter locks the user. The database proxy logs password users in through checkUserPassword: the
// same counter and lock, so a locked user cannot log in anywhere and guesses through a database count toward
// the same lockout.
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

/**
 * Slots are per store, not per authenticator: the REST API and the database proxy of a node each hold an
 * authenticator on the same store, and must see each other's checks in flight.
 */
interface SlotState {
  inFlight: Map<number, number>;
  claims: Map<number, Promise<undefined>>;
  /** Per user: claims waiting for a check in flight to end (woken by its release). */
  released: Map<number, Array<() => void>>;
}
const slotState = new WeakMap<ClusterStore, SlotState>();

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

export class PasswordAuthenticator {
  private readonly cacheSecret = randomBytes(32);
  private readonly cache = new Map<string, CacheEntry>();
  private dummyHash: Promise<string> | undefined;
  /** Per user: slow checks running on this node, and the tail of the claims being decided (see slotState). */
  private readonly inFlight: Map<number, number>;
  private readonly claims: Map<number, Promise<undefined>>;
  private readonly released: Map<number, Array<() => void>>;

  constructor(
    private readonly store: ClusterStore,
    private readonly users: UsersRepository,
    private readonly clock: Clock,
  ) {
    let state = slotState.get(store);
    if (state === undefined) {
      state = { inFlight: new Map(), claims: new Map(), released: new Map() };
      slotState.set(store, state);
    }
    this.inFlight = state.inFlight;
    this.claims = state.claims;
    this.released = state.released;
  }

  /** Returns the user or throws 401 (unauthenticated, user_locked, password_expired). */
  async authenticate(email: string, password: string, options: { allowExpired: boolean; cluster: ClusterDocument | undefined }): Promise<UserRecord> {
    const { cluster } = options;
    if (cluster?.control_plane_basic_authentication === false) {
      throw new ApiError('unauthenticated', 'Basic authentication is disabled on this cluster');
    }
    const user = await this.users.findByEmail(email);
    if (user === undefined || user.auth_method !== 'regular' || user.password_hash === undefined) {
      // Same slow work as a real check, so response time does not reveal which emails exist.
      await verifyPassword(password, await this.getDummyHash());
      throw new ApiError('unauthenticated', 'Invalid email or password');
    }
    const now = this.clock.now();
    const verdict = await this.checkPassword(user, password, now);
    if (verdict === 'locked') throw new ApiError('user_locked', 'The account is locked after too many failed logins');
    if (verdict === 'wrong') throw new ApiError('unauthenticated', 'Invalid email or password');
    if (!options.allowExpired && isPasswordExpired(user.password_issue_date, cluster?.password_expiration_duration ?? 0, now)) {
      throw new ApiError('password_expired', 'The password has expired; change it with PUT /v1/users/password');
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
    // A cached right password costs no hash and so needs no slot.
    if (this.isCachedRight(cacheKey, user)) {
      if (failures !== undefined) await this.store.txn({ success: [{ type: 'delete', key }] });
      return 'ok';
    }
    const slot = await this.claimSlot(user.uid, now);
    if (slot === undefined) return 'locked';
    // A claim that waited for a slot may find the password verified meanwhile (a burst of the same right password).
    if (this.isCachedRight(cacheKey, user)) {
      slot.release();
      return 'ok';
    }
    try {
      if (!(await verifyPassword(password, user.password_hash!))) {
        await this.recordFailure(user, now, slot.policy);
        return 'wrong';
      }
    } finally {
      slot.release();
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, { uid: user.uid, passwordHash: user.password_hash!, expiresAt: Date.now() + CACHE_TTL_MS });
    if ((await this.store.get(key)) !== undefined) await this.store.txn({ success: [{ type: 'delete', key }] });
    return 'ok';
  }

  private isCachedRight(cacheKey: string, user: UserRecord): boolean {
    const entry = this.cache.get(cacheKey);
    return entry !== undefined && entry.uid === user.uid && entry.passwordHash === user.password_hash && entry.expiresAt > Date.now();
  }

  /**
   * A slot for one slow check of user uid's password, or undefined when the user is locked or the stored
   * failures reach the threshold. While stored failures plus the attempts in flight on this node reach it, the
   * claim waits for an attempt in flight to end and counts again. Claims of one user run one at a time, and the
   * in-flight count is taken before the store is read (an attempt that records its failure meanwhile is counted
   * twice: stricter, never looser).
   */
  private claimSlot(uid: number, now: Date): Promise<{ policy: ClusterPolicy; release: () => void } | undefined> {
    const claim = (this.claims.get(uid) ?? Promise.resolve()).then(async () => {
      let policy: ClusterPolicy;
      for (;;) {
        const inFlight = this.inFlight.get(uid) ?? 0;
        const [failures, current] = await Promise.all([
          getJson<LoginFailures>(this.store, keys.loginFailures(uid)),
          getJson<ClusterPolicy>(this.store, keys.policy).then((p) => p ?? DEFAULT_CLUSTER_POLICY),
        ]);
        policy = current;
        if (isLocked(failures, now)) return undefined;
        const counted = failures === undefined || windowExpired(failures, policy, now) ? 0 : failures.count;
        const threshold = policy.login_lockout_threshold;
        if (threshold <= 0 || counted + inFlight < threshold) break;
        if (counted >= threshold || (this.inFlight.get(uid) ?? 0) === 0) return undefined;
        await new Promise<void>((resolve) => this.released.set(uid, [...(this.released.get(uid) ?? []), resolve]));
      }
      this.inFlight.set(uid, (this.inFlight.get(uid) ?? 0) + 1);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(uid) ?? 1) - 1;
        if (left > 0) this.inFlight.set(uid, left);
        else this.inFlight.delete(uid);
        const waiting = this.released.get(uid);
        this.released.delete(uid);
        for (const wake of waiting ?? []) wake();
      };
      return { policy, release };
    });
    const tail = claim.then(
      () => undefined,
      () => undefined,
    );
    this.claims.set(uid, tail);
    void tail.then(() => {
      if (this.claims.get(uid) === tail) this.claims.delete(uid);
    });
    return claim;
  }

  /** Counts a failed check with compare-and-swap, so parallel failures never overwrite each other's count. */
  private async recordFailure(user: UserRecord, now: Date, policy: ClusterPolicy): Promise<void> {
    const key = keys.loginFailures(user.uid);
    for (;;) {
      const current = await this.store.get(key);
      const previous = current === undefined ? undefined : (JSON.parse(current.value) as LoginFailures);
      const next: LoginFailures =
        previous === undefined || windowExpired(previous, policy, now)
          ? { count: 1, first_failure_at: now.toISOString(), locked_until: null }
          : { ...previous, count: previous.count + 1 };
      if (policy.login_lockout_threshold > 0 && next.count >= policy.login_lockout_threshold) {
        next.locked_until =
          policy.login_lockout_duration === 0 ? 'admin' : new Date(now.getTime() + policy.login_lockout_duration * 1000).toISOString();
      }
      const result = await this.store.txn({
        compare: [{ key, target: 'mod', op: '==', value: current?.modRevision ?? 0 }],
        success: [{ type: 'put', key, value: JSON.stringify(next) }],
      });
      if (result.succeeded) return;
    }
  }

  private getDummyHash(): Promise<string> {
    const hash = this.dummyHash ?? hashPassword(randomBytes(16).toString('hex'));
    this.dummyHash = hash;
    return hash;
  }
}

/** Whether stored failures no longer count: their window passed, or the lock they caused has run out. */
function windowExpired(failures: LoginFailures, policy: ClusterPolicy, now: Date): boolean {
  if (failures.locked_until !== null && failures.locked_until !== 'admin' && Date.parse(failures.locked_until) <= now.getTime()) return true;
  return now.getTime() - Date.parse(failures.first_failure_at) > policy.login_lockout_counter_reset_after * 1000;
}

function isLocked(failures: LoginFailures | undefined, now: Date): boolean {
  if (failures?.locked_until == null) return false;
  return failures.locked_until === 'admin' || Date.parse(failures.locked_until) > now.getTime();
}
