// The stored CRL document (keys.crls) of the certplane extension "Certificate revocation lists": the settings
// (`crl_checking`) and every installed CRL with where it came from. Pure rules: validating an upload, the view
// of GET /v1/cluster/crls, and the revocation state a node enforces (the newest CRL per issuing CA).
import { X509Certificate } from 'node:crypto';
import { findCrlIssuer, issuerIdentity, parseCrl, type ParsedCrl } from './crl.js';
import { DEFAULT_MISSING_CRL_POLICY, type MissingCrlPolicy, type RevocationList, type RevocationState } from './crl-revocation.js';
import { buildTrustAnchors, type TrustAnchors } from './client-certificate.js';
import { parseCertificateChain, toPem } from './pem.js';
import { children, decodeOid, readTlv, type Tlv } from './der.js';

export interface CrlSettings {
  /** Revocation checking on API certificate login and database mutual TLS. Default false (RS behaviour). */
  enabled: boolean;
  /** Fetch and refresh CRLs from the CRL distribution points (on the leader). Default false. */
  fetch: boolean;
  /** What a missing CRL, or one past its next_update, means for a login. Default "accept" (and an event). */
  missing_or_expired: MissingCrlPolicy;
  /** Extra CRL URLs (http/https) fetched besides the CDPs found in the trust anchors. */
  distribution_points: string[];
  /** A fetch not answered (completely) within this is abandoned; the last good CRL stays. Default 10. */
  fetch_timeout_seconds: number;
  /** Each CRL is fetched again at least this often, and always before its next_update. Default 3600. */
  refresh_interval_seconds: number;
}

export const DEFAULT_CRL_SETTINGS: CrlSettings = {
  enabled: false,
  fetch: false,
  missing_or_expired: DEFAULT_MISSING_CRL_POLICY,
  distribution_points: [],
  fetch_timeout_seconds: 10,
  refresh_interval_seconds: 3600,
};

/** The largest CRL a fetch reads (bytes); a longer answer is abandoned. */
export const MAX_FETCHED_CRL_BYTES = 10 * 1024 * 1024;
/** The most URLs fetched (CDPs of the anchors and distribution_points together). */
export const MAX_FETCH_URLS = 32;

/**
 * When a fetched CRL is fetched again: after refresh_interval_seconds, but before its next_update (at 80 % of
 * its validity, or a minute before next_update if that is sooner), never sooner than a minute (or the interval, if shorter) from now.
 */
export function nextFetchTime(now: Date, crl: { thisUpdate: Date; nextUpdate: Date | undefined }, intervalMs: number): Date {
  let due = now.getTime() + intervalMs;
  if (crl.nextUpdate !== undefined) {
    const span = crl.nextUpdate.getTime() - crl.thisUpdate.getTime();
    const early = Math.min(crl.thisUpdate.getTime() + span * 0.8, crl.nextUpdate.getTime() - 60_000);
    due = Math.min(due, early);
  }
  return new Date(Math.max(due, now.getTime() + Math.min(60_000, intervalMs)));
}

export type CrlSource = 'uploaded' | 'fetched';

export interface StoredCrl {
  /** The CRL, canonical PEM. */
  crl: string;
  source: CrlSource;
  /** Where it was fetched from (source "fetched"). */
  url?: string;
  /** issuerIdentity() of the anchor that signed it (checked when it was stored). */
  issuer: string;
  /** That anchor's subject, RFC 2253-like one line. */
  issuer_subject: string;
  installed_at: string;
}

export interface CrlDocument {
  settings: CrlSettings;
  crls: StoredCrl[];
}

export const EMPTY_CRL_DOCUMENT: CrlDocument = { settings: DEFAULT_CRL_SETTINGS, crls: [] };

/** A stored document with defaults filled in (an absent key is the default document). */
export function normalizeCrlDocument(value: Partial<CrlDocument> | undefined): CrlDocument {
  return { settings: { ...DEFAULT_CRL_SETTINGS, ...(value?.settings ?? {}) }, crls: value?.crls ?? [] };
}

export type CrlErrorCode = 'invalid_crl' | 'crl_issuer_not_trusted' | 'crl_signature_invalid' | 'duplicate_crl_issuer';

export interface CrlItemError {
  index: number;
  error_code: CrlErrorCode;
  description: string;
}

export interface VerifiedCrl {
  parsed: ParsedCrl;
  issuer: X509Certificate;
  stored: StoredCrl;
}

/** Parses and checks one CRL against the anchors: the stored form, or why not. */
export function verifyCrl(text: string | Buffer, anchors: TrustAnchors, source: CrlSource, now: Date, url?: string): { ok: true; value: VerifiedCrl } | { ok: false; error_code: Exclude<CrlErrorCode, 'duplicate_crl_issuer'>; description: string } {
  const parsed = parseCrl(text);
  if (!parsed.ok) return { ok: false, error_code: 'invalid_crl', description: `The CRL ${parsed.error}` };
  const issuer = findCrlIssuer(parsed.value, anchors);
  if (!issuer.ok) return { ok: false, error_code: issuer.error_code, description: `The CRL is refused: ${issuer.description}` };
  const stored: StoredCrl = {
    crl: toPem('X509 CRL', parsed.value.der),
    source,
    ...(url === undefined ? {} : { url }),
    issuer: issuerIdentity(issuer.issuer),
    issuer_subject: oneLine(issuer.issuer.subject),
    installed_at: now.toISOString(),
  };
  return { ok: true, value: { parsed: parsed.value, issuer: issuer.issuer, stored } };
}

/** PUT /v1/cluster/crls: every item checked, one per issuing CA; the stored forms, or every item's error. */
export function validateUploadedCrls(items: readonly string[], anchors: TrustAnchors, now: Date): { ok: true; crls: VerifiedCrl[]; warnings: string[] } | { ok: false; errors: CrlItemError[] } {
  const crls: VerifiedCrl[] = [];
  const errors: CrlItemError[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    const verdict = verifyCrl(item, anchors, 'uploaded', now);
    if (!verdict.ok) {
      errors.push({ index, error_code: verdict.error_code, description: `crls[${index}]: ${verdict.description}` });
      continue;
    }
    const previous = seen.get(verdict.value.stored.issuer);
    if (previous !== undefined) {
      errors.push({ index, error_code: 'duplicate_crl_issuer', description: `crls[${index}]: the CA ${verdict.value.stored.issuer_subject} already has a CRL in this request (crls[${previous}]); send one CRL per issuing CA` });
      continue;
    }
    seen.set(verdict.value.stored.issuer, index);
    const next = verdict.value.parsed.nextUpdate;
    if (next !== undefined && next.getTime() < now.getTime()) {
      warnings.push(`crls[${index}]: the CRL of ${verdict.value.stored.issuer_subject} is past its next_update (${next.toISOString()}); missing_or_expired decides what that means`);
    }
    crls.push(verdict.value);
  }
  return errors.length === 0 ? { ok: true, crls, warnings } : { ok: false, errors };
}

/** One CRL as GET /v1/cluster/crls shows it. */
export interface CrlView {
  issuer: string;
  this_update: string;
  next_update: string | null;
  crl_number: string | null;
  revoked_count: number;
  source: CrlSource;
  url?: string;
  installed_at: string;
  /** The CRL enforced for its CA (the newest of an uploaded and a fetched one). */
  in_use: boolean;
  /** Past its next_update at the time of the request. */
  expired: boolean;
}

interface Readable {
  stored: StoredCrl;
  parsed: ParsedCrl;
}

function readStored(crls: readonly StoredCrl[]): Readable[] {
  const out: Readable[] = [];
  for (const stored of crls) {
    const parsed = parseCrl(stored.crl);
    if (parsed.ok) out.push({ stored, parsed: parsed.value });
  }
  return out;
}

/** Newer first: a later thisUpdate, then a higher cRLNumber. */
function isNewer(a: ParsedCrl, b: ParsedCrl): boolean {
  if (a.thisUpdate.getTime() !== b.thisUpdate.getTime()) return a.thisUpdate.getTime() > b.thisUpdate.getTime();
  return BigInt(a.crlNumber ?? '0') > BigInt(b.crlNumber ?? '0');
}

function inUse(readable: readonly Readable[]): Map<string, Readable> {
  const best = new Map<string, Readable>();
  for (const item of readable) {
    const current = best.get(item.stored.issuer);
    if (current === undefined || isNewer(item.parsed, current.parsed)) best.set(item.stored.issuer, item);
  }
  return best;
}

export function describeCrls(doc: CrlDocument, now: Date): CrlView[] {
  const readable = readStored(doc.crls);
  const used = new Set([...inUse(readable).values()]);
  return readable.map((item) => ({
    issuer: item.stored.issuer_subject,
    this_update: item.parsed.thisUpdate.toISOString(),
    next_update: item.parsed.nextUpdate?.toISOString() ?? null,
    crl_number: item.parsed.crlNumber ?? null,
    revoked_count: item.parsed.revokedSerials.length,
    source: item.stored.source,
    ...(item.stored.url === undefined ? {} : { url: item.stored.url }),
    installed_at: item.stored.installed_at,
    in_use: used.has(item),
    expired: item.parsed.nextUpdate !== undefined && item.parsed.nextUpdate.getTime() < now.getTime(),
  }));
}

/** What a node enforces: undefined when checking is off; else the newest CRL of every issuing CA. */
export function revocationStateOf(doc: CrlDocument): RevocationState | undefined {
  if (!doc.settings.enabled) return undefined;
  const lists: RevocationList[] = [...inUse(readStored(doc.crls)).values()].map(({ stored, parsed }) => ({
    issuer: stored.issuer,
    issuer_subject: stored.issuer_subject,
    this_update: parsed.thisUpdate.toISOString(),
    next_update: parsed.nextUpdate?.toISOString() ?? null,
    revoked: parsed.revokedSerials,
  }));
  return { missing_or_expired: doc.settings.missing_or_expired, lists };
}

/**
 * A fetched CRL replaces the stored fetched one of its CA only when it is newer (a CDP serving an older CRL,
 * a replay, keeps the last good one). Returns the new list, or undefined when nothing changes.
 */
export function withFetchedCrl(crls: readonly StoredCrl[], fetched: VerifiedCrl): StoredCrl[] | undefined {
  const index = crls.findIndex((c) => c.source === 'fetched' && c.issuer === fetched.stored.issuer);
  if (index < 0) return [...crls, fetched.stored];
  const current = parseCrl(crls[index]!.crl);
  if (current.ok && !isNewer(fetched.parsed, current.value)) return undefined;
  const next = [...crls];
  next[index] = fetched.stored;
  return next;
}

/** The http(s) CRL distribution point URLs of a certificate (its cRLDistributionPoints extension). */
export function distributionPointsOf(cert: X509Certificate): string[] {
  try {
    const der = cert.raw;
    const outer = readTlv(der, 0);
    const tbs = readTlv(der, outer.start, outer.end);
    const urls: string[] = [];
    for (const field of children(der, tbs)) {
      if (field.tag !== 0xa3) continue;
      for (const extension of children(der, readTlv(der, field.start, field.end))) {
        const parts = children(der, extension);
        const oid = parts[0];
        const value = parts[parts.length - 1];
        if (oid?.tag !== 0x06 || value?.tag !== 0x04 || decodeOid(der.subarray(oid.start, oid.end)) !== OID_CRL_DISTRIBUTION_POINTS) continue;
        collectUris(der, readTlv(der, value.start, value.end), urls, 0);
      }
    }
    return [...new Set(urls)].filter((url) => /^https?:\/\/[\x21-\x7e]+$/.test(url));
  } catch {
    return [];
  }
}

const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';

/** GeneralName uniformResourceIdentifier ([6] IA5String) anywhere inside the DistributionPoints. */
function collectUris(der: Buffer, item: Tlv, out: string[], depth: number): void {
  if (depth > 8 || out.length > 16) return;
  if (item.tag === 0x86) {
    out.push(der.subarray(item.start, item.end).toString('latin1'));
    return;
  }
  if ((item.tag & 0x20) === 0) return;
  for (const child of children(der, item)) collectUris(der, child, out, depth + 1);
}

function oneLine(subject: string): string {
  return subject.replaceAll('\n', ', ');
}

/** The trust anchors a CRL's issuer must be one of, from the PEM bundles of store/crl-records.ts. */
export function clientTrustAnchors(pems: readonly string[]): TrustAnchors {
  return buildTrustAnchors(
    pems.flatMap((pem) => {
      const parsed = parseCertificateChain(pem);
      return parsed.ok ? parsed.value : [];
    }),
  );
}

/**
 * The CAs whose revocation status is unknown while checking is on: every issuing trust anchor without a CRL,
 * or whose CRL in use is past its next_update. By CA subject: why. (What the leader raises as
 * crl_missing_or_expired events; missing_or_expired decides whether logins are refused meanwhile.)
 */
export function unknownRevocationStatus(anchors: TrustAnchors, crls: readonly StoredCrl[], now: Date): Record<string, string> {
  const used = inUse(readStored(crls));
  const out: Record<string, string> = {};
  for (const issuers of anchors.issuersBySubject.values()) {
    for (const { cert } of issuers) {
      const subject = oneLine(cert.subject);
      let identity: string;
      try {
        identity = issuerIdentity(cert);
      } catch {
        continue;
      }
      const crl = used.get(identity);
      if (crl === undefined) out[subject] = 'no CRL is installed for this CA';
      else if (crl.parsed.nextUpdate !== undefined && crl.parsed.nextUpdate.getTime() < now.getTime()) {
        out[subject] = `its CRL is past its next_update (${crl.parsed.nextUpdate.toISOString()})`;
      }
    }
  }
  return out;
}
