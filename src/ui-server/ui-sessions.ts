// The Cluster Manager UI's sessions in the cluster store (rules in src/domain/ui-sessions.ts). In the store,
// not in the node's memory: behind a load balancer a browser's requests reach any node of the cluster, and a
// session (and its end: logout, password or role change) must hold on all of them. The store holds only
// SHA-256 of each session id; the CSRF token is derived from the id and never stored.
//
// Writes are bounded: a login writes one key (and removes idle ones and the user's oldest beyond the cap in the
// same transaction); a request writes the session's last use back at most once a minute (needsTouch); a
// session that no longer holds (idle, user gone or changed) is deleted when it is next presented.
import { randomBytes } from 'node:crypto';
import type { ClusterStore } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import type { Clock } from '../lib/clock.js';
import { ApiError } from '../lib/api-error.js';
import type { UserRecord } from '../domain/users.js';
import {
  csrfTokenOf,
  idleTimeoutMs,
  isIdleExpired,
  isWellFormedSessionId,
  MAX_SESSIONS,
  MAX_SESSIONS_PER_USER,
  needsTouch,
  planNewSession,
  SESSION_ID_BYTES,
  sessionFingerprint,
  sessionKeyOf,
  type UiLoginMethod,
  type UiSessionRecord,
} from '../domain/ui-sessions.js';

export interface UserLookup {
  get(uid: number): Promise<UserRecord | undefined>;
}

/** A session that holds: its id (from the cookie), record and current user. */
export interface LiveSession {
  id: string;
  key: string;
  record: UiSessionRecord;
  user: UserRecord;
  csrfToken: string;
}

/** Why a presented cookie did not give a session (for the 401's description). */
export type SessionMiss = 'none' | 'ended';

export interface UiSessionsOptions {
  /** The length of a minute for cm_session_timeout_minutes (60000; integration tests shorten it). */
  minuteMs?: number;
  limits?: { perUser: number; total: number };
}

export class UiSessions {
  private readonly minuteMs: number;
  private readonly limits: { perUser: number; total: number };

  constructor(
    private readonly store: ClusterStore,
    private readonly users: UserLookup,
    private readonly clock: Clock,
    options: UiSessionsOptions = {},
  ) {
    this.minuteMs = options.minuteMs ?? 60_000;
    this.limits = options.limits ?? { perUser: MAX_SESSIONS_PER_USER, total: MAX_SESSIONS };
  }

  timeoutMs(timeoutMinutes: number): number {
    return idleTimeoutMs(timeoutMinutes, this.minuteMs);
  }

  /** Opens a session for an authenticated user; returns the new id (the cookie value) and its CSRF token. */
  async create(user: UserRecord, loginMethod: UiLoginMethod, timeoutMinutes: number): Promise<{ id: string; csrfToken: string }> {
    const id = randomBytes(SESSION_ID_BYTES).toString('base64url');
    const now = this.clock.now().getTime();
    const record: UiSessionRecord = { uid: user.uid, login_method: loginMethod, fingerprint: sessionFingerprint(user), created_at: now, last_seen: now };
    const { kvs } = await this.store.list(keys.uiSessionPrefix);
    const existing = kvs.map((kv) => ({ key: kv.key, record: parseRecord(kv.value) ?? { uid: -1, last_seen: 0 } }));
    const plan = planNewSession(existing, user.uid, now, this.timeoutMs(timeoutMinutes), this.limits);
    const removals = plan.remove.map((key) => ({ type: 'delete' as const, key }));
    if (!plan.allowed) {
      if (removals.length > 0) await this.store.txn({ success: removals });
      throw new ApiError('too_many_sessions', `The Cluster Manager UI has ${existing.length - removals.length} open sessions, its limit; try again later`);
    }
    await this.store.txn({ success: [...removals, { type: 'put', key: keys.uiSession(sessionKeyOf(id)), value: JSON.stringify(record) }] });
    return { id, csrfToken: csrfTokenOf(id) };
  }

  /**
   * The session a cookie value stands for, or why not. A session past its idle timeout, of a deleted user, or
   * whose user's credentials or role changed since (fingerprint) is deleted and reported as 'ended'.
   */
  async resolve(id: string | undefined, timeoutMinutes: number): Promise<LiveSession | SessionMiss> {
    if (id === undefined || id === '') return 'none';
    if (!isWellFormedSessionId(id)) return 'ended';
    const key = keys.uiSession(sessionKeyOf(id));
    const kv = await this.store.get(key);
    const record = kv === undefined ? undefined : parseRecord(kv.value);
    if (record === undefined) return 'ended';
    const now = this.clock.now().getTime();
    const user = isIdleExpired(record, now, this.timeoutMs(timeoutMinutes)) ? undefined : await this.users.get(record.uid);
    if (user === undefined || sessionFingerprint(user) !== record.fingerprint) {
      await this.deleteKey(key);
      return 'ended';
    }
    return { id, key, record, user, csrfToken: csrfTokenOf(id) };
  }

  /** Writes the session's last use back when due (not on every request); a session deleted meanwhile stays deleted. */
  async touch(session: LiveSession, timeoutMinutes: number): Promise<void> {
    const now = this.clock.now().getTime();
    if (!needsTouch(session.record, now, this.timeoutMs(timeoutMinutes))) return;
    const record: UiSessionRecord = { ...session.record, last_seen: now };
    await this.store.txn({
      compare: [{ key: session.key, target: 'version', op: '>', value: 0 }],
      success: [{ type: 'put', key: session.key, value: JSON.stringify(record) }],
    });
    session.record = record;
  }

  /**
   * After this session's own request changed its user (password, role, subject line): the session follows the
   * new record, while the user's other sessions (still on the old fingerprint) end on their next use.
   */
  async followOwnChange(session: LiveSession): Promise<void> {
    const user = await this.users.get(session.record.uid);
    if (user === undefined) {
      await this.deleteKey(session.key);
      return;
    }
    const fingerprint = sessionFingerprint(user);
    if (fingerprint === session.record.fingerprint) return;
    const record: UiSessionRecord = { ...session.record, fingerprint };
    await this.store.txn({
      compare: [{ key: session.key, target: 'version', op: '>', value: 0 }],
      success: [{ type: 'put', key: session.key, value: JSON.stringify(record) }],
    });
    session.record = record;
    session.user = user;
  }

  async end(session: Pick<LiveSession, 'key'>): Promise<void> {
    await this.deleteKey(session.key);
  }

  private async deleteKey(key: string): Promise<void> {
    await this.store.txn({ compare: [{ key, target: 'version', op: '>', value: 0 }], success: [{ type: 'delete', key }] });
  }
}

function parseRecord(value: string): UiSessionRecord | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<UiSessionRecord>;
    if (typeof parsed.uid !== 'number' || typeof parsed.last_seen !== 'number' || typeof parsed.fingerprint !== 'string') return undefined;
    return parsed as UiSessionRecord;
  } catch {
    return undefined;
  }
}
