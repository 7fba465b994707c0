// Bearer tokens (JSON Web Tokens, HS256) on every route: issues them (POST /v1/users/authorize and
// /v1/users/refresh_jwt) and turns a presented one into its user. The token is checked on each request against
// the current user record, so a deleted or locked user, or one whose password changed, loses every token at
// once. Independent of control_plane_basic_authentication (digest §1.2: JWT keeps working when Basic is off).
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { ApiError } from '../../lib/api-error.js';
import { fingerprintMatches, newClaims, signJwt, verifyJwt } from '../../domain/jwt.js';
import { isPasswordExpired } from '../../domain/passwords.js';
import type { UserRecord } from '../../domain/users.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import type { UsersRepository } from '../state/users-repository.js';

export interface LockStatus {
  isLocked(uid: number): Promise<boolean>;
}

export class JwtAuthenticator {
  constructor(
    private readonly secret: Buffer,
    private readonly users: UsersRepository,
    private readonly locks: LockStatus,
    private readonly clock: Clock,
  ) {}

  /** A new token for an authenticated user. */
  issue(user: UserRecord, ttlSeconds: number): string {
    return signJwt(this.secret, newClaims(this.secret, user, this.clock.now(), ttlSeconds, randomBytes(12).toString('base64url')));
  }

  /** The user a token stands for, or 401: invalid_token (form, signature, expiry, user gone or credentials
   *  changed), user_locked, password_expired (except where an expired password may still be changed). */
  async authenticate(token: string, options: { allowExpired: boolean; cluster: ClusterDocument | undefined }): Promise<UserRecord> {
    const now = this.clock.now();
    const verdict = verifyJwt(this.secret, token, now);
    if (!verdict.ok) throw new ApiError(401, 'invalid_token', `Invalid token: ${verdict.reason}`);
    const user = await this.users.get(Number(verdict.claims.sub));
    if (user === undefined || !fingerprintMatches(this.secret, user, verdict.claims.fpr)) {
      throw new ApiError(401, 'invalid_token', 'Invalid token: its user no longer exists or has changed credentials since it was issued');
    }
    if (user.status === 'locked' || (await this.locks.isLocked(user.uid))) {
      throw new ApiError(401, 'user_locked', 'The account is locked after too many failed logins');
    }
    if (
      !options.allowExpired &&
      user.auth_method === 'regular' &&
      isPasswordExpired(user.password_issue_date, options.cluster?.password_expiration_duration ?? 0, now)
    ) {
      throw new ApiError(401, 'password_expired', 'The password has expired; change it with PUT /v1/users/password');
    }
    return user;
  }
}

/** `Authorization: Bearer <jwt>`, or `JWT <jwt>` as in the reference's refresh_jwt example. */
export function parseBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:Bearer|JWT)\s+(\S+)\s*$/i.exec(header);
  return match === null ? undefined : match[1];
}
