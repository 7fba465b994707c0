// Password storage (scrypt, self-describing encoded string) and the cluster password policy: length,
// complexity and expiry (digest §5.2). Only node:crypto; no other I/O.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const SCRYPT_N = 16384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Upper bounds on parameters read back from a stored hash, so a corrupt value cannot exhaust memory. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

export const DEFAULT_PASSWORD_MIN_LENGTH = 8;
const DAY_MS = 86_400_000;

function deriveKey(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password as `scrypt$N$r$p$<salt base64>$<key base64>` (N=16384, r=8, p=1, 16-byte salt, 32-byte key). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await deriveKey(password, salt, KEY_LENGTH, { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P });
  return ['scrypt', SCRYPT_N, SCRYPT_R, SCRYPT_P, salt.toString('base64'), key.toString('base64')].join('$');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Whether the password matches an encoded hash from hashPassword. Malformed hashes never match. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, nText, rText, pText, saltText, keyText] = parts as [string, string, string, string, string, string];
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return false;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return false;
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) return false;
  const salt = Buffer.from(saltText, 'base64');
  const expected = Buffer.from(keyText, 'base64');
  if (salt.length < 8 || expected.length < 16 || expected.length > 128) return false;
  const actual = await deriveKey(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + (1 << 20) });
  return timingSafeEqual(actual, expected);
}

/** The cluster fields that make up the password policy (digest §5.2). */
export interface PasswordPolicy {
  password_complexity: boolean;
  /** Applies whether or not complexity is on; 8 when unset. */
  password_min_length?: number | undefined;
}

export type PolicyCheck = { ok: true } | { ok: false; description: string };

/**
 * Checks a new password against the policy. The minimum length always applies; with password_complexity
 * the password also needs an uppercase letter, a lowercase letter, a digit and a special character, must
 * not contain the user's email or the email reversed (case-insensitive), and must not repeat one character
 * more than 3 times in a row. The description lists every rule that failed (never the password).
 */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy, email?: string): PolicyCheck {
  const minLength = policy.password_min_length ?? DEFAULT_PASSWORD_MIN_LENGTH;
  const failures: string[] = [];
  if ([...password].length < minLength) failures.push(`it must be at least ${minLength} characters long`);
  if (policy.password_complexity) {
    if (!/\p{Lu}/u.test(password)) failures.push('it needs an uppercase letter');
    if (!/\p{Ll}/u.test(password)) failures.push('it needs a lowercase letter');
    if (!/\p{Nd}/u.test(password)) failures.push('it needs a digit');
    if (!/[^\p{L}\p{N}]/u.test(password)) failures.push('it needs a special character');
    if (email) {
      const lower = password.toLowerCase();
      const mail = email.toLowerCase();
      if (lower.includes(mail)) failures.push('it must not contain the email address');
      else if (lower.includes([...mail].reverse().join(''))) failures.push('it must not contain the email address reversed');
    }
    if (/(.)\1{3,}/su.test(password)) failures.push('it must not repeat a character more than 3 times in a row');
  }
  if (failures.length === 0) return { ok: true };
  return { ok: false, description: `The password does not satisfy the password policy: ${failures.join('; ')}` };
}

/**
 * Whether a password set at issueDateIso has expired after expirationDays (cluster
 * password_expiration_duration; 0 or less = never). An unreadable issue date counts as expired.
 */
export function isPasswordExpired(issueDateIso: string, expirationDays: number, now: Date): boolean {
  if (!Number.isFinite(expirationDays) || expirationDays <= 0) return false;
  const issued = Date.parse(issueDateIso);
  if (Number.isNaN(issued)) return true;
  return now.getTime() >= issued + expirationDays * DAY_MS;
}
