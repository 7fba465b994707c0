// The installed certificates as the pages show them: GET /v1/cluster/certificates (`<name>_cert` PEMs; any
// `<name>_key` the response holds for admins is dropped here and never reaches a page), parsed in the browser,
// and the expiry threshold of the cluster's `cluster_certs_about_to_expire` alert (default 45 days).
import { get } from './api.js';
import { h } from './dom.js';
import { daysLeft, fingerprint, parsePem, remainingText, type CertificateInfo } from './x509.js';

export interface InstalledCertificate {
  name: string;
  pem: string;
  leaf?: CertificateInfo;
  chainLength: number;
  fingerprint: string;
  daysLeft?: number;
  parseError?: string;
}

export const DANGER_DAYS = 7;
export const DEFAULT_THRESHOLD_DAYS = 45;

export interface ClusterDocument {
  name?: string;
  alert_settings?: { cluster_certs_about_to_expire?: { enabled?: boolean; threshold?: string } };
  mtls_certificate_authentication?: boolean;
  mtls_client_cert_subject_validation_type?: string;
  mtls_authorized_subjects?: AuthorizedSubject[];
  cm_session_timeout_minutes?: number;
  [field: string]: unknown;
}

export interface AuthorizedSubject {
  CN: string;
  O?: string;
  OU?: string[];
  L?: string;
  ST?: string;
  C?: string;
}

export function thresholdDays(cluster: ClusterDocument | undefined): number {
  const value = Number(cluster?.alert_settings?.cluster_certs_about_to_expire?.threshold);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_THRESHOLD_DAYS;
}

export async function loadCertificates(): Promise<InstalledCertificate[]> {
  const body = await get<Record<string, unknown>>('/v1/cluster/certificates');
  const result: InstalledCertificate[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (!field.endsWith('_cert') || typeof value !== 'string') continue;
    const name = field.slice(0, -'_cert'.length);
    try {
      const chain = parsePem(value);
      const leaf = chain[0];
      if (!leaf) throw new Error('no certificate in the PEM');
      result.push({ name, pem: value, leaf, chainLength: chain.length, fingerprint: await fingerprint(leaf.der), daysLeft: daysLeft(leaf.notAfter) });
    } catch (error) {
      result.push({ name, pem: value, chainLength: 0, fingerprint: '', parseError: error instanceof Error ? error.message : String(error) });
    }
  }
  return result.sort((a, b) => a.name.localeCompare(b.name));
}

/** "12 days" with the warning colour under the threshold and danger under 7 days (or expired). */
export function daysBadge(days: number | undefined, threshold: number, notAfter?: Date): HTMLElement {
  if (days === undefined) return h('span', { class: 'badge' }, 'unknown');
  const kind = days < DANGER_DAYS ? 'danger' : days < threshold ? 'warning' : 'success';
  const text = notAfter ? remainingText(notAfter) : `${days} ${days === 1 ? 'day' : 'days'} left`;
  return h('span', { class: `badge ${kind}`, title: kind === 'success' ? 'valid' : kind === 'warning' ? `under the ${threshold}-day alert threshold` : 'expires within a week' }, text);
}
