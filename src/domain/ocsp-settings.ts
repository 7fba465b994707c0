// The cluster's OCSP configuration (digest §3.2): the five writable settings with RS defaults and ranges, the
// read-only responder_url derived from the proxy certificate's AIA, and the rules of a partial PUT.
// DESIGN.md: a responder_url in PUT that differs from the derived one is invalid_schema; the same value is
// accepted so a GET-edit-PUT round trip works. Enabling OCSP without a responder URL is no_responder_url.
import { X509Certificate } from 'node:crypto';
import { parseCertificateChain } from './pem.js';

export interface OcspSettings {
  ocsp_functionality: boolean;
  query_frequency: number;
  recovery_frequency: number;
  recovery_max_tries: number;
  response_timeout: number;
}

/** The ocsp object of GET/PUT /v1/ocsp (fields in the order of fixtures/rs-responses/ocsp.json). */
export interface OcspConfig {
  ocsp_functionality: boolean;
  query_frequency: number;
  recovery_frequency: number;
  recovery_max_tries: number;
  responder_url: string;
  response_timeout: number;
}

export const OCSP_DEFAULTS: OcspSettings = {
  ocsp_functionality: false,
  query_frequency: 3600,
  recovery_frequency: 60,
  recovery_max_tries: 5,
  response_timeout: 1,
};

/** Inclusive ranges of the integer settings (digest §3.2), used by the PUT schema and by applyOcspUpdate. */
export const OCSP_RANGES = {
  query_frequency: { minimum: 60, maximum: 86_400 },
  recovery_frequency: { minimum: 60, maximum: 86_400 },
  recovery_max_tries: { minimum: 1, maximum: 100 },
  response_timeout: { minimum: 1, maximum: 60 },
} as const;

export type OcspUpdate = Partial<OcspConfig>;

export type OcspUpdateResult =
  | { ok: true; settings: OcspSettings }
  | { ok: false; error_code: 'invalid_schema' | 'no_responder_url'; description: string };

/** The stored settings merged over the defaults (a cluster that never had PUT /v1/ocsp has no document). */
export function ocspSettingsOrDefaults(stored: Partial<OcspSettings> | undefined): OcspSettings {
  return { ...OCSP_DEFAULTS, ...pickSettings(stored ?? {}) };
}

export function ocspConfigView(settings: OcspSettings, responderUrl: string): OcspConfig {
  return {
    ocsp_functionality: settings.ocsp_functionality,
    query_frequency: settings.query_frequency,
    recovery_frequency: settings.recovery_frequency,
    recovery_max_tries: settings.recovery_max_tries,
    responder_url: responderUrl,
    response_timeout: settings.response_timeout,
  };
}

/** Merges a partial update; checks ranges, the read-only responder_url, and that enabling has a URL to query. */
export function applyOcspUpdate(current: OcspSettings, update: OcspUpdate, responderUrl: string): OcspUpdateResult {
  if (update.responder_url !== undefined && update.responder_url !== responderUrl) {
    return {
      ok: false,
      error_code: 'invalid_schema',
      description:
        responderUrl === ''
          ? "'responder_url' is read-only: the proxy certificate has no OCSP responder URL (AIA)"
          : `'responder_url' is read-only: it comes from the proxy certificate (${responderUrl})`,
    };
  }
  for (const [field, range] of Object.entries(OCSP_RANGES) as Array<[keyof typeof OCSP_RANGES, { minimum: number; maximum: number }]>) {
    const value = update[field];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < range.minimum || value > range.maximum) {
      return { ok: false, error_code: 'invalid_schema', description: `'${field}' must be an integer from ${range.minimum} to ${range.maximum}` };
    }
  }
  if (update.ocsp_functionality === true && responderUrl === '') {
    return {
      ok: false,
      error_code: 'no_responder_url',
      description: 'OCSP cannot be enabled: the proxy certificate has no OCSP responder URL (Authority Information Access)',
    };
  }
  return { ok: true, settings: { ...current, ...pickSettings(update) } };
}

function pickSettings(source: Partial<OcspSettings> | OcspUpdate): Partial<OcspSettings> {
  const out: Partial<OcspSettings> = {};
  if (source.ocsp_functionality !== undefined) out.ocsp_functionality = source.ocsp_functionality;
  if (source.query_frequency !== undefined) out.query_frequency = source.query_frequency;
  if (source.recovery_frequency !== undefined) out.recovery_frequency = source.recovery_frequency;
  if (source.recovery_max_tries !== undefined) out.recovery_max_tries = source.recovery_max_tries;
  if (source.response_timeout !== undefined) out.response_timeout = source.response_timeout;
  return out;
}

/**
 * The first http(s) OCSP URI in the Authority Information Access of the leaf (first) certificate of a PEM chain;
 * '' when there is none or the PEM does not parse.
 */
export function ocspResponderUrlOf(certificatePem: string | undefined): string {
  if (certificatePem === undefined) return '';
  const chain = parseCertificateChain(certificatePem);
  const leaf = chain.ok ? chain.value[0] : undefined;
  return leaf === undefined ? '' : ocspResponderUrlOfCertificate(leaf);
}

export function ocspResponderUrlOfCertificate(cert: X509Certificate): string {
  const info = cert.infoAccess;
  if (info === undefined) return '';
  // node:crypto renders AIA as lines "OCSP - URI:http://…"; values with unusual characters come JSON-quoted.
  for (const line of info.split('\n')) {
    const match = /^OCSP - URI:(.+)$/.exec(line.trim());
    if (match === null) continue;
    let value = match[1]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    if (/^https?:\/\/[^\s]+$/i.test(value)) return value;
  }
  return '';
}
