// Certificate-expiry alerts (digest §5.4 alert_settings, DESIGN.md: default threshold 45 days): which alert covers
// which certificate, and the pure decision of what to raise and clear given the installed certificates, the
// alert settings and the alerts already raised. The checker (src/expiry) keeps the raised set in the store so an
// alert is raised once per certificate while its condition holds, across restarts and leader changes.
import type { CertificateName } from './certificate-names.js';
import type { ClusterDocument, ThresholdAlert } from './cluster-settings.js';

export type ExpiryAlertName = 'cluster_certs_about_to_expire' | 'node_internal_certs_about_to_expire' | 'cluster_ca_cert_about_to_expire';

/** What the checker watches: the installed certificates and the cluster's internal CA (keys.internalCa), which
 *  issues the internode certificates and is never returned by the API. */
export type ExpiryCertificateName = CertificateName | 'internal_ca';

/** The internode certificates are "node internal"; every other certificate is a cluster certificate. */
export const EXPIRY_ALERT_OF: Readonly<Record<ExpiryCertificateName, ExpiryAlertName>> = {
  api: 'cluster_certs_about_to_expire',
  cm: 'cluster_certs_about_to_expire',
  proxy: 'cluster_certs_about_to_expire',
  syncer: 'cluster_certs_about_to_expire',
  metrics_exporter: 'cluster_certs_about_to_expire',
  ldap_client: 'cluster_certs_about_to_expire',
  mtls_trusted_ca: 'cluster_certs_about_to_expire',
  sso_issuer: 'cluster_certs_about_to_expire',
  sso_service: 'cluster_certs_about_to_expire',
  ccs_internode_encryption: 'node_internal_certs_about_to_expire',
  data_internode_encryption: 'node_internal_certs_about_to_expire',
  internal_ca: 'cluster_ca_cert_about_to_expire',
};

export const DEFAULT_EXPIRY_THRESHOLD_DAYS = 45;
/** The default of `cluster_ca_cert_about_to_expire` (as in the capture of a live cluster). */
export const DEFAULT_CA_EXPIRY_THRESHOLD_DAYS = 90;

const DAY_MS = 86_400_000;

/** An installed certificate as the checker sees it: the leaf of its chain. */
export interface InstalledCertificateExpiry {
  name: ExpiryCertificateName;
  fingerprint: string;
  notAfter: Date;
}

/** One raised alert, kept in the store (keys.expiryAlerts) until it is cleared. */
export interface RaisedExpiryAlert {
  alert: ExpiryAlertName;
  fingerprint: string;
  not_after: string;
  threshold_days: number;
  raised_at: string;
}

/** Raised alerts by certificate name. */
export type RaisedExpiryAlerts = Partial<Record<ExpiryCertificateName, RaisedExpiryAlert>>;

/** An alert event in the cluster event log (GET /v1/logs), in the shape of the OCSP alerts (domain/ocsp-status.ts):
 *  `state` true when raised, false when cleared. */
export interface CertificateExpiryAlertEvent {
  time: string;
  type: ExpiryAlertName;
  severity: 'WARNING' | 'INFO';
  state: boolean;
  certificate_name: ExpiryCertificateName;
  certificate_fingerprint: string;
  not_after: string;
  description: string;
}

export interface ExpiryAlertSettings {
  enabled: boolean;
  /** Days before notAfter from which the alert holds. */
  thresholdDays: number;
}

/** The three expiry alert settings of the cluster document, with the defaults for missing or unparsable fields. */
export function expiryAlertSettings(cluster: Partial<ClusterDocument> | undefined): Record<ExpiryAlertName, ExpiryAlertSettings> {
  const read = (setting: Partial<ThresholdAlert> | undefined, fallback = DEFAULT_EXPIRY_THRESHOLD_DAYS): ExpiryAlertSettings => ({
    enabled: setting?.enabled !== false,
    thresholdDays: parseThresholdDays(setting?.threshold, fallback),
  });
  return {
    cluster_certs_about_to_expire: read(cluster?.alert_settings?.cluster_certs_about_to_expire),
    node_internal_certs_about_to_expire: read(cluster?.alert_settings?.node_internal_certs_about_to_expire),
    cluster_ca_cert_about_to_expire: read(cluster?.alert_settings?.cluster_ca_cert_about_to_expire, DEFAULT_CA_EXPIRY_THRESHOLD_DAYS),
  };
}

/** Thresholds travel as strings of days (`"45"`, as in RS); anything else falls back to the default. */
export function parseThresholdDays(threshold: string | undefined, fallback = DEFAULT_EXPIRY_THRESHOLD_DAYS): number {
  if (threshold === undefined || !/^[0-9]{1,5}$/.test(threshold)) return fallback;
  return Number(threshold);
}

/** Whole days left until notAfter, rounded down (negative once expired). */
export function daysToExpiry(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

/** The certificate expires within `thresholdDays` of now (or has expired). */
export function isAboutToExpire(notAfter: Date, now: Date, thresholdDays: number): boolean {
  return notAfter.getTime() - now.getTime() <= thresholdDays * DAY_MS;
}

export interface ExpiryEvaluation {
  raised: RaisedExpiryAlerts;
  events: CertificateExpiryAlertEvent[];
}

/**
 * What to raise and clear. Per certificate:
 * - condition = installed, its alert enabled, and it expires within the threshold;
 * - raised and the certificate was deleted or replaced, or the threshold no longer applies → cleared (event);
 * - condition holds and not raised (for this very certificate) → raised (event);
 * - the alert is disabled → forgotten without an event ("disabling stops new events"); enabling it again raises
 *   it again if the condition holds.
 */
export function evaluateExpiryAlerts(input: {
  now: Date;
  certificates: readonly InstalledCertificateExpiry[];
  settings: Record<ExpiryAlertName, ExpiryAlertSettings>;
  raised: RaisedExpiryAlerts;
}): ExpiryEvaluation {
  const { now } = input;
  const time = now.toISOString();
  const raised: RaisedExpiryAlerts = {};
  const events: CertificateExpiryAlertEvent[] = [];
  const installed = new Map(input.certificates.map((c) => [c.name, c]));
  const event = (type: ExpiryAlertName, state: boolean, name: ExpiryCertificateName, fingerprint: string, notAfter: string, description: string): CertificateExpiryAlertEvent => ({
    time,
    type,
    severity: state ? 'WARNING' : 'INFO',
    state,
    certificate_name: name,
    certificate_fingerprint: fingerprint,
    not_after: notAfter,
    description,
  });

  for (const [name, previous] of Object.entries(input.raised) as Array<[ExpiryCertificateName, RaisedExpiryAlert]>) {
    const settings = input.settings[previous.alert];
    if (!settings.enabled) continue;
    const current = installed.get(name);
    const old = { fp: previous.fingerprint, at: previous.not_after };
    if (current === undefined) {
      events.push(event(previous.alert, false, name, old.fp, old.at, `The ${label(name)} certificate was deleted (it expired on ${day(old.at)})`));
    } else if (current.fingerprint !== previous.fingerprint) {
      events.push(event(previous.alert, false, name, old.fp, old.at, `The ${label(name)} certificate was replaced; the new one expires on ${day(current.notAfter.toISOString())}`));
    } else if (!isAboutToExpire(current.notAfter, now, settings.thresholdDays)) {
      events.push(event(previous.alert, false, name, old.fp, old.at, `The ${label(name)} certificate expires on ${day(old.at)}, no longer within ${settings.thresholdDays} days`));
    } else {
      raised[name] = previous;
    }
  }

  for (const certificate of input.certificates) {
    const alert = EXPIRY_ALERT_OF[certificate.name];
    const settings = input.settings[alert];
    if (!settings.enabled || raised[certificate.name] !== undefined) continue;
    if (!isAboutToExpire(certificate.notAfter, now, settings.thresholdDays)) continue;
    const notAfter = certificate.notAfter.toISOString();
    const days = daysToExpiry(certificate.notAfter, now);
    const when = certificate.notAfter.getTime() <= now.getTime() ? `expired on ${day(notAfter)}` : `expires on ${day(notAfter)} (in ${days} ${days === 1 ? 'day' : 'days'})`;
    raised[certificate.name] = { alert, fingerprint: certificate.fingerprint, not_after: notAfter, threshold_days: settings.thresholdDays, raised_at: time };
    events.push(event(alert, true, certificate.name, certificate.fingerprint, notAfter, `The ${label(certificate.name)} certificate ${when}`));
  }
  return { raised, events };
}

/** How a description names a certificate: the internal CA in words, the others by name. */
function label(name: ExpiryCertificateName): string {
  return name === 'internal_ca' ? "cluster's internal CA" : name;
}

/** The date part of an ISO time, with the time of day: `2025-06-01 12:00:00 UTC`. */
function day(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
