// Bearer tokens (JSON Web Tokens, HS256) on every route: issues them (POST /v1/users/authorize and
// /v1/users/refresh_jwt) and turns a presented one into its user. The token is checked on each request against
// the current user record, so a deleted or locked user, or one whose password changed, loses every token at
// once. Independent of control_plane_basic_authentication (digest §1.2: JWT keeps working when Basic is off).
// A certificate user's token works only while certificate login (mtls_certificate_authentication) is on, and
// no token, refreshed or not, lives past its session's maximum age (auth_time + maxSessionSeconds).
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { ApiError } from '../../lib/api-error.js';
import { fingerprintMatches, JWT_MAX_SESSION_SECONDS, newClaims, signJwt, verifyJwt, type JwtClaims } from '../../domain/jwt.js';
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
    /** Maximum session age in seconds: no token lives past its auth_time plus this. */
    private readonly maxSessionSeconds: number = JWT_MAX_SESSION_SECONDS,
  ) {}

  /** A new token for an authenticated user: a login (authTime omitted: now) or a refresh (the presented
   *  token's auth_time, so the session keeps its age). */
  issue(user: UserRecord, ttlSeconds: number, authTime?: number): string {
    const session = { maxSessionSeconds: this.maxSessionSeconds, ...(authTime === undefined ? {} : { authTime }) };
    return signJwt(this.secret, newClaims(this.secret, user, this.clock.now(), ttlSeconds, randomBytes(12).toString('base64url'), session));
  }

  /** For refresh_jwt: 401 invalid_token when the session is already at its maximum age. */
  assertRefreshable(authTime: number): void {
    if (this.clock.now().getTime() / 1000 >= authTime + this.maxSessionSeconds) {
      throw new ApiError('invalid_token', 'The session has reached its maximum age: log in again');
    }
  }

  /** The user a token stands for, or 401: invalid_token (form, signature, expiry, user gone or credentials
   *  changed, certificate user while certificate login is off), user_locked, password_expired (except where an
   *  expired password may still be changed). */
  async authenticate(token: string, options: { allowExpired: boolean; cluster: ClusterDocument | undefined }): Promise<UserRecord> {
    return (await this.authenticateToken(token, options)).user;
  }

  /** authenticate, with the token's claims. */
  async authenticateToken(
    token: string,
    options: { allowExpired: boolean; cluster: ClusterDocument | undefined },
  ): Promise<{ user: UserRecord; claims: JwtClaims }> {
    const now = this.clock.now();
    const verdict = verifyJwt(this.secret, token, now);
    if (!verdict.ok) throw new ApiError('invalid_token', `Invalid token: ${verdict.reason}`);
    if (now.getTime() / 1000 >= verdict.claims.auth_time + this.maxSessionSeconds) {
      // Only reachable when the limit was lowered after the token was issued (exp is capped at issue time).
      throw new ApiError('invalid_token', 'Invalid token: the session has reached its maximum age');
    }
    const user = await this.users.get(Number(verdict.claims.sub));
    if (user === undefined || !fingerprintMatches(this.secret, user, verdict.claims.fpr)) {
      throw new ApiError('invalid_token', 'Invalid token: its user no longer exists or has changed credentials since it was issued');
    }
    if (user.auth_method === 'certificate' && options.cluster?.mtls_certificate_authentication !== true) {
      throw new ApiError('invalid_token', 'Invalid token: certificate login (mtls_certificate_authentication) is off');
    }
    if (user.status === 'locked' || (await this.locks.isLocked(user.uid))) {
      throw new ApiError('user_locked', 'The account is locked after too many failed logins');
    }
    if (
      !options.allowExpired &&
      user.auth_method === 'regular' &&
      isPasswordExpired(user.password_issue_date, options.cluster?.password_expiration_duration ?? 0, now)
    ) {
      throw new ApiError('password_expired', 'The password has expired; change it with PUT /v1/users/password');
    }
    return { user, claims: verdict.claims };
  }
}

/** `Authorization: Bearer <jwt>`, or `JWT <jwt>` as in the reference's refresh_jwt example. */
export function parseBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:Bearer|JWT)\s+(\S+)\s*$/i.exec(header);
  return match === null ? undefined : match[1];
}
