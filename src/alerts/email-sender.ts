// Sends one alert e-mail through the cluster's SMTP settings (digest §5.2 smtp_*; smtp_tls_mode none / starttls /
// tls) with nodemailer: one connection per message, bounded timeouts so an unreachable server fails in seconds.
import { createTransport } from 'nodemailer';
import type { AlertDeliveryFields } from '../domain/alert-delivery.js';

export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface SmtpTarget {
  fields: AlertDeliveryFields;
  password: string | undefined;
  /** Connection, greeting and socket timeout (default 10 s). */
  timeoutMs?: number;
}

export async function sendAlertEmail(target: SmtpTarget, message: EmailMessage): Promise<void> {
  const { fields } = target;
  const timeout = target.timeoutMs ?? 10_000;
  const transport = createTransport({
    host: fields.smtp_host,
    port: fields.smtp_port,
    secure: fields.smtp_tls_mode === 'tls',
    requireTLS: fields.smtp_tls_mode === 'starttls',
    ignoreTLS: fields.smtp_tls_mode === 'none',
    ...(fields.smtp_username === '' ? {} : { auth: { user: fields.smtp_username, pass: target.password ?? '' } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
  });
  try {
    await transport.sendMail({ from: message.from, to: message.to, subject: message.subject, text: message.text });
  } finally {
    transport.close();
  }
}
