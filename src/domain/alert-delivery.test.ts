import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  alertDeliveryFieldsOf,
  alertDeliveryProblems,
  alertEmail,
  alertRecipients,
  defaultAlertDeliveryFields,
  retryDelayMs,
  webhookBody,
  webhookSignature,
  type AlertDelivery,
} from './alert-delivery.js';

const delivery: AlertDelivery = {
  id: '2026-01-01T00:00:00.000Z-00abcd',
  alert: 'cluster_ocsp_status_revoked',
  entity: 'cluster',
  event: { time: '2026-01-01T00:00:00.000Z', type: 'ocsp_status_revoked', severity: 'ERROR', state: true, description: 'The OCSP responder reports the proxy certificate as revoked' },
  created_at: '2026-01-01T00:00:00.000Z',
  pending: ['email', 'webhook'],
  attempts: 0,
  next_attempt_at: '2026-01-01T00:00:00.000Z',
  last_error: null,
};

describe('alert delivery rules', () => {
  it('sends cluster alerts to users with an address, email_alerts true and cluster_email_alerts not false', () => {
    expect(
      alertRecipients([
        { email: 'a@example.com', email_alerts: true },
        { email: 'B@example.com', email_alerts: true, cluster_email_alerts: true },
        { email: 'c@example.com', email_alerts: false, cluster_email_alerts: true },
        { email: 'd@example.com', email_alerts: true, cluster_email_alerts: false },
        { email: '', email_alerts: true },
        { email: 'a@example.com', email_alerts: true },
      ]),
    ).toEqual(['a@example.com', 'b@example.com']);
  });

  it('retries after 1 s, 2 s, 4 s … at most 5 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(40)).toBe(300_000);
  });

  it('signs the exact body with HMAC-SHA256', () => {
    const body = JSON.stringify(webhookBody(delivery, 'cluster.local'));
    expect(webhookSignature('s3cret-s3cret-s3cret', body)).toBe(`sha256=${createHmac('sha256', 's3cret-s3cret-s3cret').update(body).digest('hex')}`);
    expect(JSON.parse(body)).toMatchObject({ version: 1, delivery_id: delivery.id, alert: 'cluster_ocsp_status_revoked', state: 'raised', severity: 'ERROR', cluster: 'cluster.local' });
  });

  it('names the alert in the e-mail subject and body', () => {
    const mail = alertEmail(delivery, 'cluster.local');
    expect(mail.subject).toBe('[cluster.local] RAISED: cluster_ocsp_status_revoked (ERROR)');
    expect(mail.text).toContain('reports the proxy certificate as revoked');
  });

  it('validates the settings as they would be', () => {
    const fields = defaultAlertDeliveryFields();
    expect(alertDeliveryProblems(fields, {})).toEqual([]);
    expect(alertDeliveryProblems({ ...fields, email_alerts: true }, {})).toEqual(['email_alerts needs smtp_host']);
    const webhook = { enabled: true, url: 'https://hooks.example.com/x', ca_certificate: '' };
    expect(alertDeliveryProblems({ ...fields, alert_webhook: webhook }, {})).toHaveLength(1);
    expect(alertDeliveryProblems({ ...fields, alert_webhook: webhook }, { webhook_secret: 'x'.repeat(16) })).toEqual([]);
    expect(alertDeliveryProblems({ ...fields, alert_webhook: { ...webhook, url: 'ftp://x' } }, { webhook_secret: 'x'.repeat(16) })).toHaveLength(1);
  });

  it('fills the defaults of documents written before delivery settings existed', () => {
    expect(alertDeliveryFieldsOf({ smtp_host: 'mail' })).toMatchObject({ smtp_host: 'mail', smtp_port: 25, smtp_tls_mode: 'none', alert_webhook: { enabled: false, url: '' } });
  });
});
