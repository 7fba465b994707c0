import { describe, expect, it } from 'vitest';
import {
  evaluateExpiryAlerts,
  expiryAlertSettings,
  isAboutToExpire,
  parseThresholdDays,
  type ExpiryAlertName,
  type ExpiryAlertSettings,
  type InstalledCertificateExpiry,
} from './certificate-expiry.js';

const DAY = 86_400_000;
const now = new Date('2026-03-01T10:00:00Z');
const inDays = (days: number): Date => new Date(now.getTime() + days * DAY);
const cert = (name: InstalledCertificateExpiry['name'], days: number, fingerprint = `${name}-fp`): InstalledCertificateExpiry => ({ name, fingerprint, notAfter: inDays(days) });
const settings = (cluster: Partial<ExpiryAlertSettings> = {}, internal: Partial<ExpiryAlertSettings> = {}, ca: Partial<ExpiryAlertSettings> = {}): Record<ExpiryAlertName, ExpiryAlertSettings> => ({
  cluster_certs_about_to_expire: { enabled: true, thresholdDays: 45, ...cluster },
  node_internal_certs_about_to_expire: { enabled: true, thresholdDays: 45, ...internal },
  cluster_ca_cert_about_to_expire: { enabled: true, thresholdDays: 90, ...ca },
});

describe('expiry alert settings', () => {
  it('reads thresholds as strings of days and falls back to 45 days, enabled, when missing or unparsable', () => {
    expect(parseThresholdDays('10')).toBe(10);
    expect(parseThresholdDays(undefined)).toBe(45);
    expect(parseThresholdDays('ten')).toBe(45);
    expect(expiryAlertSettings(undefined)).toEqual(settings());
    expect(
      expiryAlertSettings({
        alert_settings: {
          cluster_ca_cert_about_to_expire: { enabled: true, threshold: '90' },
          cluster_certs_about_to_expire: { enabled: false, threshold: '7' },
          node_internal_certs_about_to_expire: { enabled: true, threshold: '30' },
          cluster_ocsp_query_failed: false,
          cluster_ocsp_status_revoked: false,
        },
      }),
    ).toEqual(settings({ enabled: false, thresholdDays: 7 }, { thresholdDays: 30 }));
  });

  it('reads the CA alert on its own, falling back to 90 days (its RS default), enabled', () => {
    const only = (setting: { enabled: boolean; threshold: string }) =>
      expiryAlertSettings({ alert_settings: { cluster_ca_cert_about_to_expire: setting } as never }).cluster_ca_cert_about_to_expire;
    expect(only({ enabled: false, threshold: '120' })).toEqual({ enabled: false, thresholdDays: 120 });
    expect(only({ enabled: true, threshold: 'x' })).toEqual({ enabled: true, thresholdDays: 90 });
  });

  it('counts a certificate exactly at the threshold, and an expired one, as about to expire', () => {
    expect(isAboutToExpire(inDays(45), now, 45)).toBe(true);
    expect(isAboutToExpire(new Date(inDays(45).getTime() + 1), now, 45)).toBe(false);
    expect(isAboutToExpire(inDays(-1), now, 45)).toBe(true);
  });
});

describe('evaluateExpiryAlerts', () => {
  it('raises the cluster alert for a non-internal certificate and the node-internal alert for internode certificates', () => {
    const result = evaluateExpiryAlerts({
      now,
      certificates: [cert('proxy', 10), cert('api', 365), cert('ccs_internode_encryption', 20), cert('mtls_trusted_ca', 3)],
      settings: settings(),
      raised: {},
    });
    expect(result.events.map((e) => [e.type, e.certificate_name, e.state, e.severity])).toEqual([
      ['cluster_certs_about_to_expire', 'proxy', true, 'WARNING'],
      ['node_internal_certs_about_to_expire', 'ccs_internode_encryption', true, 'WARNING'],
      ['cluster_certs_about_to_expire', 'mtls_trusted_ca', true, 'WARNING'],
    ]);
    expect(result.events[0]!.description).toBe('The proxy certificate expires on 2026-03-11 10:00:00 UTC (in 10 days)');
    expect(result.events[0]!.not_after).toBe(inDays(10).toISOString());
    expect(Object.keys(result.raised).sort()).toEqual(['ccs_internode_encryption', 'mtls_trusted_ca', 'proxy']);
    expect(result.raised.proxy).toEqual({ alert: 'cluster_certs_about_to_expire', fingerprint: 'proxy-fp', not_after: inDays(10).toISOString(), threshold_days: 45, raised_at: now.toISOString() });
  });

  it('raises once per certificate while the condition holds', () => {
    const first = evaluateExpiryAlerts({ now, certificates: [cert('proxy', 10)], settings: settings(), raised: {} });
    const later = evaluateExpiryAlerts({ now: inDays(5), certificates: [cert('proxy', 10)], settings: settings({ thresholdDays: 20 }), raised: first.raised });
    expect(later.events).toEqual([]);
    expect(later.raised).toEqual(first.raised);
  });

  it('clears when the threshold no longer applies and raises again when it is lowered back', () => {
    const raised = evaluateExpiryAlerts({ now, certificates: [cert('syncer', 10)], settings: settings(), raised: {} }).raised;
    const cleared = evaluateExpiryAlerts({ now, certificates: [cert('syncer', 10)], settings: settings({ thresholdDays: 5 }), raised });
    expect(cleared.events).toMatchObject([{ type: 'cluster_certs_about_to_expire', certificate_name: 'syncer', state: false, severity: 'INFO' }]);
    expect(cleared.events[0]!.description).toContain('no longer within 5 days');
    expect(cleared.raised).toEqual({});
    const again = evaluateExpiryAlerts({ now, certificates: [cert('syncer', 10)], settings: settings({ thresholdDays: 30 }), raised: cleared.raised });
    expect(again.events).toMatchObject([{ certificate_name: 'syncer', state: true }]);
  });

  it('clears when the certificate is replaced by one outside the threshold, and re-raises for a replacement inside it', () => {
    const raised = evaluateExpiryAlerts({ now, certificates: [cert('proxy', 10)], settings: settings(), raised: {} }).raised;
    const replaced = evaluateExpiryAlerts({ now, certificates: [cert('proxy', 365, 'new-fp')], settings: settings(), raised });
    expect(replaced.events).toMatchObject([{ certificate_name: 'proxy', state: false, certificate_fingerprint: 'proxy-fp' }]);
    expect(replaced.events[0]!.description).toContain('was replaced');
    expect(replaced.raised).toEqual({});
    const stillShort = evaluateExpiryAlerts({ now, certificates: [cert('proxy', 20, 'other-fp')], settings: settings(), raised });
    expect(stillShort.events.map((e) => [e.state, e.certificate_fingerprint])).toEqual([
      [false, 'proxy-fp'],
      [true, 'other-fp'],
    ]);
  });

  it('clears when the certificate is deleted', () => {
    const raised = evaluateExpiryAlerts({ now, certificates: [cert('ldap_client', 10)], settings: settings(), raised: {} }).raised;
    const deleted = evaluateExpiryAlerts({ now, certificates: [], settings: settings(), raised });
    expect(deleted.events).toMatchObject([{ certificate_name: 'ldap_client', state: false }]);
    expect(deleted.events[0]!.description).toContain('was deleted');
    expect(deleted.raised).toEqual({});
  });

  it('raises nothing and forgets raised alerts without an event while the alert is disabled', () => {
    const raised = evaluateExpiryAlerts({ now, certificates: [cert('proxy', 10), cert('data_internode_encryption', 10)], settings: settings(), raised: {} }).raised;
    const disabled = evaluateExpiryAlerts({ now, certificates: [cert('proxy', 10), cert('data_internode_encryption', 10)], settings: settings({ enabled: false }), raised });
    expect(disabled.events).toEqual([]);
    expect(Object.keys(disabled.raised)).toEqual(['data_internode_encryption']);
    const none = evaluateExpiryAlerts({ now, certificates: [cert('sso_service', 1)], settings: settings({ enabled: false }), raised: {} });
    expect(none).toEqual({ raised: {}, events: [] });
  });

  it('describes an expired certificate as expired and never carries key material', () => {
    const result = evaluateExpiryAlerts({ now, certificates: [cert('cm', -2)], settings: settings(), raised: {} });
    expect(result.events[0]!.description).toBe('The cm certificate expired on 2026-02-27 10:00:00 UTC');
    expect(JSON.stringify(result)).not.toMatch(/PRIVATE KEY|BEGIN/);
  });
});
