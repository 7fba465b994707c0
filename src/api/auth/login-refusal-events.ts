// Lockouts, refused certificate logins and refused password logins through a database as WARNING events in
// /v1/logs (issue 17.8). Rate-limited so that a
// flood of attempts cannot flood the store: at most one event per subject (a locked user, a certificate
// subject) per window, and at most maxPerWindow events in all per window (made-up certificate subjects are
// free to an attacker). The next event of a subject counts the attempts that were not recorded.
// Events carry who tried (remote address, presented subject) and whom it concerned, never a password.
import { createHash } from 'node:crypto';
import type { ClusterStore } from '../../store/cluster-store.js';
import type { Clock } from '../../lib/clock.js';
import { ApiError } from '../../lib/api-error.js';
import type { UserRecord } from '../../domain/users.js';
import { eventPutOp } from '../state/entity-events.js';

export interface LoginRefusalEvent {
  time: string;
  type: 'user_locked' | 'certificate_login_refused' | 'database_login_refused';
  severity: 'WARNING';
  /** Where the attempts came from (the latest one). */
  remote_address: string;
  /** user_locked: the locked user; certificate_login_refused: the REST API; database_login_refused: the database. */
  target_type: 'user' | 'api' | 'bdb';
  target_uid?: number;
  target_name?: string;
  /** certificate_login_refused: the RFC 2253 subject of the presented certificate (truncated to 512 characters). */
  subject?: string;
  /** database_login_refused: the user name the client claimed (at most 100 characters), and the certplane user
   *  it names when it names one. */
  user_name?: string;
  user_uid?: number;
  /** Why the (latest) attempt was refused. */
  error_code: string;
  /** Refused attempts of this subject since its previous event, this one included. */
  refused_attempts: number;
}

const MAX_SUBJECT_LENGTH = 512;
const MAX_TRACKED = 10_000;

interface Tracked {
  lastEventAt: number;
  unrecorded: number;
}

export interface LoginRefusalLogOptions {
  windowMs?: number;
  maxPerWindow?: number;
  /** Where a failed event write is reported (the store may be down; the login is refused anyway). */
  onError?: (error: unknown) => void;
}

export class LoginRefusalLog {
  private readonly tracked = new Map<string, Tracked>();
  private windowStart = 0;
  private windowEvents = 0;
  private readonly windowMs: number;
  private readonly maxPerWindow: number;

  constructor(
    private readonly store: ClusterStore,
    private readonly clock: Clock,
    private readonly options: LoginRefusalLogOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxPerWindow = options.maxPerWindow ?? 60;
  }

  /** A login of `user` was refused and the account is now locked. */
  async userLocked(user: Pick<UserRecord, 'uid' | 'email'>, remoteAddress: string, errorCode: string): Promise<void> {
    await this.record(`user:${user.uid}`, (refused_attempts, time) => ({
      time,
      type: 'user_locked',
      severity: 'WARNING',
      remote_address: remoteAddress,
      target_type: 'user',
      target_uid: user.uid,
      target_name: user.email,
      error_code: errorCode,
      refused_attempts,
    }));
  }

  /** A client certificate was presented on the REST API and refused. */
  async certificateRefused(subject: string, remoteAddress: string, error: unknown): Promise<void> {
    const shown = subject.length > MAX_SUBJECT_LENGTH ? `${subject.slice(0, MAX_SUBJECT_LENGTH)}…` : subject;
    const key = `cert:${createHash('sha256').update(subject).digest('base64')}`;
    await this.record(key, (refused_attempts, time) => ({
      time,
      type: 'certificate_login_refused',
      severity: 'WARNING',
      remote_address: remoteAddress,
      target_type: 'api',
      subject: shown,
      error_code: error instanceof ApiError ? error.errorCode : 'internal_error',
      refused_attempts,
    }));
  }

  /** A password login through database `bdbUid` as `userName` was refused (wrong password, locked, unknown user...). */
  async databaseLoginRefused(refusal: { bdbUid: number; userName: string; userUid?: number | undefined; remoteAddress: string; reason: string }): Promise<void> {
    const userName = refusal.userName.slice(0, 100);
    const key = `bdb:${refusal.bdbUid}:${createHash('sha256').update(userName).digest('base64')}`;
    await this.record(key, (refused_attempts, time) => ({
      time,
      type: 'database_login_refused',
      severity: 'WARNING',
      remote_address: refusal.remoteAddress,
      target_type: 'bdb',
      target_uid: refusal.bdbUid,
      user_name: userName,
      ...(refusal.userUid === undefined ? {} : { user_uid: refusal.userUid }),
      error_code: refusal.reason,
      refused_attempts,
    }));
  }

  private async record(key: string, build: (refusedAttempts: number, time: string) => LoginRefusalEvent): Promise<void> {
    const now = this.clock.now();
    const at = now.getTime();
    const tracked = this.tracked.get(key);
    if (tracked !== undefined && at - tracked.lastEventAt < this.windowMs) {
      tracked.unrecorded += 1;
      return;
    }
    if (at - this.windowStart >= this.windowMs) {
      this.windowStart = at;
      this.windowEvents = 0;
    }
    if (this.windowEvents >= this.maxPerWindow) {
      if (tracked !== undefined) tracked.unrecorded += 1;
      return;
    }
    this.windowEvents += 1;
    const event = build((tracked?.unrecorded ?? 0) + 1, now.toISOString());
    this.forget(at);
    this.tracked.set(key, { lastEventAt: at, unrecorded: 0 });
    try {
      await this.store.txn({ success: [eventPutOp(event)] });
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Keeps the map bounded: drops subjects whose window is over once it grows large. */
  private forget(now: number): void {
    if (this.tracked.size < MAX_TRACKED) return;
    for (const [key, value] of this.tracked) if (now - value.lastEventAt >= this.windowMs) this.tracked.delete(key);
    if (this.tracked.size >= MAX_TRACKED) this.tracked.clear();
  }
}
