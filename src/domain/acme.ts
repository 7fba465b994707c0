// ACME renewal (issue 15.2, a certplane extension): the settings of PUT /v1/cluster/acme, the per-name status
// the leader's renewer keeps, and the pure rules of the schedule (RFC 9773 renewal windows, else two thirds of
// the lifetime; retry backoff). No I/O.
import { canonicalIp } from './certificate-identity.js';

/** The certificates ACME may manage: the externally facing server certificates. */
export const ACME_CERTIFICATE_NAMES = ['api', 'cm', 'proxy', 'metrics_exporter'] as const;
export type AcmeCertificateName = (typeof ACME_CERTIFICATE_NAMES)[number];

export const ACME_CHALLENGES = ['http-01', 'dns-01'] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];

/** The stored settings (PUT /v1/cluster/acme replaces them as a whole). */
export interface AcmeSettings {
  directory_url: string;
  contact_email: string;
  /** The certificates ACME manages; empty: ACME off. */
  names: AcmeCertificateName[];
  challenge: AcmeChallenge;
  /** PEM CA bundle that verifies the ACME server's HTTPS certificate; empty: the system trust store. */
  ca_certificate: string;
  /** The DNS names and IPs to request per certificate; a name without an entry gets the current certificate's. */
  identifiers: Partial<Record<AcmeCertificateName, string[]>>;
}

export const DEFAULT_ACME_SETTINGS: AcmeSettings = {
  directory_url: '',
  contact_email: '',
  names: [],
  challenge: 'http-01',
  ca_certificate: '',
  identifiers: {},
};

/** What the renewer keeps per managed name (GET /v1/cluster/acme `status`). Times ISO-8601, null when never. */
export interface AcmeNameStatus {
  /** When the next order is due (a renewal, or the retry after a failure). */
  next_renewal: string | null;
  /** How next_renewal was chosen: the ACME server's renewal window (RFC 9773), two thirds of the lifetime, or a retry. */
  renewal_basis: 'renewal_info' | 'two_thirds' | 'retry' | null;
  last_success: string | null;
  last_attempt: string | null;
  last_error: string | null;
  /** Failures since the last success (the backoff exponent). */
  failures: number;
  /** The certificate ACME last installed: serial (hex) and notAfter. */
  serial: string | null;
  not_after: string | null;
  /** When the renewal window was last asked for (RFC 9773 polling), and when to ask again. */
  renewal_info_checked: string | null;
  renewal_info_next_check: string | null;
}

export const ACME_STATUS_EMPTY: AcmeNameStatus = {
  next_renewal: null,
  renewal_basis: null,
  last_success: null,
  last_attempt: null,
  last_error: null,
  failures: 0,
  serial: null,
  not_after: null,
  renewal_info_checked: null,
  renewal_info_next_check: null,
};

/** A hand upload of a managed certificate switches ACME off for that name until PUT /v1/cluster/acme names it again. */
export interface AcmeManualMarker {
  time: string;
  user_email: string;
}

/** Two thirds of the lifetime (notBefore + 2/3 (notAfter - notBefore)). */
export function twoThirdsRenewal(notBefore: Date, notAfter: Date): Date {
  return new Date(notBefore.getTime() + (2 * (notAfter.getTime() - notBefore.getTime())) / 3);
}

/**
 * RFC 9773 §4.2: a time chosen uniformly at random inside the suggested window (`random` in [0, 1)); a window
 * already over means now. Undefined when the window is unusable (end before start, unparsable).
 */
export function renewalInsideWindow(window: { start: string; end: string }, now: Date, random: number): Date | undefined {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return undefined;
  if (end <= now.getTime()) return now;
  const from = Math.max(start, now.getTime());
  return new Date(from + Math.floor(random * (end - from)));
}

/** Retry delay after `failures` consecutive failures: base, doubled each time, at most maxMs. */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}

/** How long to wait before asking the renewal window again: the server's Retry-After, bounded to [1 min, 1 day]. */
export function renewalInfoRecheckMs(retryAfterSeconds: number | undefined): number {
  const seconds = retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds) ? 6 * 3600 : retryAfterSeconds;
  return Math.min(Math.max(seconds, 60), 86_400) * 1000;
}

export type IdentifierCheck = { ok: true; identifiers: Array<{ type: 'dns' | 'ip'; value: string }> } | { ok: false; error: string };

/** Checks the identifiers of one certificate: 1-20 DNS names or IPs, wildcards only with dns-01. */
export function checkIdentifiers(values: readonly string[], challenge: AcmeChallenge): IdentifierCheck {
  if (values.length === 0) return { ok: false, error: 'no DNS name or IP address to request' };
  if (values.length > 20) return { ok: false, error: 'more than 20 identifiers' };
  const out: Array<{ type: 'dns' | 'ip'; value: string }> = [];
  for (const raw of values) {
    const ip = canonicalIp(raw);
    if (ip !== undefined) {
      out.push({ type: 'ip', value: ip });
      continue;
    }
    const value = raw.toLowerCase().replace(/\.$/, '');
    if (!isDnsName(value)) return { ok: false, error: `"${raw.slice(0, 80)}" is neither a DNS name nor an IP address` };
    if (value.startsWith('*.') && challenge !== 'dns-01') return { ok: false, error: `the wildcard ${value} needs the dns-01 challenge` };
    out.push({ type: 'dns', value });
  }
  const unique = new Map(out.map((i) => [`${i.type}:${i.value}`, i]));
  return { ok: true, identifiers: [...unique.values()] };
}

function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (labels.length < 1) return false;
  return labels.every((label, i) => (i === 0 && label === '*' && labels.length > 2) || /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}

/** The DNS name under which a dns-01 answer is published (RFC 8555 §8.4). */
export function dnsChallengeRecordName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, '')}`;
}
