// Delivering alert events: e-mail through the cluster's SMTP settings (digest §5.2 email_alerts, email_from,
// smtp_*; smtp_password write-only) to the users who asked for alerts, and certplane's webhook (alert_webhook: an
// HTTPS POST of a signed JSON body). Pure rules: settings and their validation, who gets mail, the message and
// the webhook body, the signature, the retry schedule. The sending is src/alerts.
import { createHmac } from 'node:crypto';
import { parseCertificateChain } from './pem.js';
import type { AlertEvent, AlertEntity } from './alerts.js';

export const SMTP_TLS_MODES = ['none', 'starttls', 'tls'] as const;
export type SmtpTlsMode = (typeof SMTP_TLS_MODES)[number];

/** The delivery fields of the cluster document (GET /v1/cluster shows them; the secrets are never shown). */
export interface AlertDeliveryFields {
  email_alerts: boolean;
  email_from: string;
  smtp_host: string;
  smtp_port: number;
  smtp_username: string;
  smtp_tls_mode: SmtpTlsMode;
  /** Deprecated in RS (smtp_tls_mode replaces it); kept for GET-edit-PUT round trips, `true` means starttls. */
  smtp_use_tls: boolean;
  /** certplane extension: the webhook. */
  alert_webhook: AlertWebhookView;
}

export interface AlertWebhookView {
  enabled: boolean;
  /** https:// URL the events are POSTed to ('' when not configured). */
  url: string;
  /** PEM CA certificate(s) that sign the receiver's certificate; '' = the system's trusted CAs. */
  ca_certificate: string;
}

/** The write-only secrets, kept apart from the cluster document (keys.alertSecrets) so no GET, event or log has them. */
export interface AlertSecrets {
  smtp_password?: string;
  webhook_secret?: string;
}

export function defaultAlertDeliveryFields(): AlertDeliveryFields {
  return {
    email_alerts: false,
    email_from: '',
    smtp_host: '',
    smtp_port: 25,
    smtp_username: '',
    smtp_tls_mode: 'none',
    smtp_use_tls: false,
    alert_webhook: { enabled: false, url: '', ca_certificate: '' },
  };
}

/** The delivery fields of a stored cluster document, defaults for those it lacks (documents of older versions). */
export function alertDeliveryFieldsOf(cluster: Partial<AlertDeliveryFields> | undefined): AlertDeliveryFields {
  const defaults = defaultAlertDeliveryFields();
  return { ...defaults, ...pick(cluster), alert_webhook: { ...defaults.alert_webhook, ...cluster?.alert_webhook } };
}

function pick(cluster: Partial<AlertDeliveryFields> | undefined): Partial<AlertDeliveryFields> {
  if (cluster === undefined) return {};
  const out: Partial<AlertDeliveryFields> = {};
  for (const field of ['email_alerts', 'email_from', 'smtp_host', 'smtp_port', 'smtp_username', 'smtp_tls_mode', 'smtp_use_tls'] as const) {
    if (cluster[field] !== undefined) (out as Record<string, unknown>)[field] = cluster[field];
  }
  return out;
}

export const WEBHOOK_SECRET_LENGTH = { min: 16, max: 512 } as const;

/** Problems with the delivery settings as they would be after an update (an empty list when valid). */
export function alertDeliveryProblems(fields: AlertDeliveryFields, secrets: AlertSecrets): string[] {
  const problems: string[] = [];
  if (fields.email_from !== '' && !isEmailAddress(fields.email_from)) problems.push('email_from must be an e-mail address');
  if (fields.smtp_host !== '' && !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(fields.smtp_host)) problems.push('smtp_host must be a host name or an IP address');
  if (fields.email_alerts && fields.smtp_host === '') problems.push('email_alerts needs smtp_host');
  const webhook = fields.alert_webhook;
  if (webhook.url !== '') {
    let url: URL | undefined;
    try {
      url = new URL(webhook.url);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '') {
      problems.push('alert_webhook.url must be an https:// URL without credentials');
    }
  }
  if (webhook.enabled && webhook.url === '') problems.push('alert_webhook.enabled needs alert_webhook.url');
  const secret = secrets.webhook_secret;
  if (secret !== undefined && (secret.length < WEBHOOK_SECRET_LENGTH.min || secret.length > WEBHOOK_SECRET_LENGTH.max)) {
    problems.push(`alert_webhook.secret must be ${WEBHOOK_SECRET_LENGTH.min} to ${WEBHOOK_SECRET_LENGTH.max} characters`);
  }
  if (webhook.enabled && (secret === undefined || secret === '')) problems.push('alert_webhook.enabled needs alert_webhook.secret (the HMAC key)');
  if (webhook.ca_certificate !== '') {
    const chain = parseCertificateChain(webhook.ca_certificate);
    if (!chain.ok) problems.push('alert_webhook.ca_certificate must be one or more PEM certificates');
  }
  return problems;
}

const EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$/;

export function isEmailAddress(value: string): boolean {
  return EMAIL.test(value);
}

/** A user as the recipient rule sees it. */
export interface AlertRecipientCandidate {
  email: string;
  email_alerts?: boolean;
  cluster_email_alerts?: boolean;
}

/**
 * Who gets cluster and node alerts by e-mail: users with an address, `email_alerts` true and `cluster_email_alerts`
 * not false (RS's own capture of the first admin has email_alerts true and no cluster_email_alerts field; false opts
 * a user out of cluster alerts). Distinct addresses, sorted.
 */
export function alertRecipients(users: readonly AlertRecipientCandidate[]): string[] {
  const addresses = users
    .filter((u) => u.email_alerts === true && u.cluster_email_alerts !== false && isEmailAddress(u.email))
    .map((u) => u.email.toLowerCase());
  return [...new Set(addresses)].sort();
}

/** One alert event waiting for delivery (keys.alertOutbox), written in the transaction that logs the event. */
export interface AlertDelivery {
  id: string;
  alert: string;
  entity: AlertEntity | 'unknown';
  event: AlertEvent;
  created_at: string;
  /** Channels not delivered yet; a channel that is not configured when its turn comes counts as delivered. */
  pending: DeliveryChannel[];
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
}

export type DeliveryChannel = 'email' | 'webhook';

/** Retry schedule: 1 s, 2 s, 4 s … at most 5 min between attempts; given up after a day (logged and an event). */
export const DELIVERY_RETRY = { firstDelayMs: 1000, maxDelayMs: 300_000, giveUpAfterMs: 86_400_000 } as const;

export function retryDelayMs(attempts: number, policy: { firstDelayMs: number; maxDelayMs: number } = DELIVERY_RETRY): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** exponent);
}

/** The JSON body the webhook receives (README "Alerts"). */
export interface WebhookBody {
  version: 1;
  delivery_id: string;
  cluster: string;
  alert: string;
  entity: string;
  state: 'raised' | 'cleared';
  severity: string;
  time: string;
  description: string;
  event: AlertEvent;
}

export function webhookBody(delivery: AlertDelivery, cluster: string): WebhookBody {
  return {
    version: 1,
    delivery_id: delivery.id,
    cluster,
    alert: delivery.alert,
    entity: delivery.entity,
    state: delivery.event.state ? 'raised' : 'cleared',
    severity: delivery.event.severity,
    time: delivery.event.time,
    description: delivery.event.description,
    event: delivery.event,
  };
}

export const SIGNATURE_HEADER = 'x-certplane-signature';
export const DELIVERY_HEADER = 'x-certplane-delivery';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes with the shared secret>`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The e-mail of one alert event. */
export function alertEmail(delivery: AlertDelivery, cluster: string): { subject: string; text: string } {
  const { event } = delivery;
  const verb = event.state ? 'RAISED' : 'CLEARED';
  const subject = `[${cluster}] ${verb}: ${delivery.alert} (${event.state ? event.severity : 'INFO'})`;
  const lines = [
    `Alert:       ${delivery.alert}`,
    `State:       ${event.state ? 'raised' : 'cleared'}`,
    `Severity:    ${event.severity}`,
    `Cluster:     ${cluster}`,
    `Entity:      ${delivery.entity}`,
    `Time:        ${event.time}`,
    '',
    event.description,
    '',
    'Event:',
    JSON.stringify(event, null, 2),
    '',
    'Current alert state: GET /v1/cluster/alerts and GET /v1/nodes/alerts on the cluster REST API.',
  ];
  return { subject, text: lines.join('\n') };
}
