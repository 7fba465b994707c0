// Per-certificate series (README "Metrics"): for every certificate this node serves, when it stops (and
// started) being valid and the seconds left, labelled with what identifies it (name, subject CN, issuer,
// serial, not_after). The certificate is parsed once per installed PEM, not on every scrape.
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { subjectAttributes, subjectToRfc2253 } from '../domain/rfc2253.js';
import { normalizeSerial } from '../domain/ocsp-status.js';
import type { MetricFamily, Sample } from './prometheus-text.js';

export const CERTIFICATE_NOT_AFTER = 'certplane_certificate_not_after_timestamp_seconds';
export const CERTIFICATE_NOT_BEFORE = 'certplane_certificate_not_before_timestamp_seconds';
export const CERTIFICATE_EXPIRES_IN = 'certplane_certificate_expires_in_seconds';

/** Label values are capped: an uploaded certificate's subject is free text. */
const MAX_LABEL = 256;

export interface CertificateIdentity {
  /** name, subject_cn, issuer, serial, not_after (ISO 8601, seconds). */
  labels: Record<string, string>;
  notBefore: number;
  notAfter: number;
  serial: string;
}

export function certificateIdentity(name: string, pem: string): CertificateIdentity {
  const leaf = new X509Certificate(pem);
  const notAfter = Date.parse(leaf.validTo);
  const notBefore = Date.parse(leaf.validFrom);
  const serial = normalizeSerial(leaf.serialNumber);
  return {
    labels: {
      name,
      subject_cn: (subjectAttributes(leaf.subject).CN ?? '').slice(0, MAX_LABEL),
      issuer: subjectToRfc2253(leaf.issuer).slice(0, MAX_LABEL),
      serial,
      not_after: new Date(notAfter).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    notBefore,
    notAfter,
    serial,
  };
}

export interface InstalledCertificates {
  get(name: string): { certificate: string } | undefined;
}

export class CertificateMetrics {
  private readonly parsed = new Map<string, { pem: string; identity: CertificateIdentity | undefined }>();

  constructor(
    private readonly names: readonly string[],
    private readonly certificates: InstalledCertificates,
    private readonly clock: Clock,
  ) {}

  /** The identity of an installed certificate (cached by its PEM); undefined when none or unparsable. */
  identity(name: string): CertificateIdentity | undefined {
    const installed = this.certificates.get(name);
    if (installed === undefined) return undefined;
    const cached = this.parsed.get(name);
    if (cached?.pem === installed.certificate) return cached.identity;
    let identity: CertificateIdentity | undefined;
    try {
      identity = certificateIdentity(name, installed.certificate);
    } catch {
      identity = undefined;
    }
    this.parsed.set(name, { pem: installed.certificate, identity });
    return identity;
  }

  collect(): MetricFamily[] {
    const now = this.clock.now().getTime();
    const notAfter: Sample[] = [];
    const notBefore: Sample[] = [];
    const expiresIn: Sample[] = [];
    for (const name of this.names) {
      const identity = this.identity(name);
      if (identity === undefined) continue;
      notAfter.push({ labels: identity.labels, value: identity.notAfter / 1000 });
      notBefore.push({ labels: identity.labels, value: identity.notBefore / 1000 });
      expiresIn.push({ labels: identity.labels, value: Math.floor((identity.notAfter - now) / 1000) });
    }
    return [
      { name: CERTIFICATE_NOT_AFTER, type: 'gauge', help: 'When the certificate expires (notAfter), seconds since the Unix epoch', samples: notAfter },
      { name: CERTIFICATE_NOT_BEFORE, type: 'gauge', help: 'When the certificate became valid (notBefore), seconds since the Unix epoch', samples: notBefore },
      { name: CERTIFICATE_EXPIRES_IN, type: 'gauge', help: 'Seconds until the certificate expires (negative once expired)', samples: expiresIn },
    ];
  }
}
