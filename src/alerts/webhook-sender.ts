// Posts one alert to the webhook (certplane's alert_webhook): HTTPS only, the receiver's certificate checked
// against the configured CA bundle (or the system's CAs), the body signed with HMAC-SHA256 (domain/alert-delivery.ts
// webhookSignature). Any 2xx answer is a delivery; anything else (status, timeout, TLS or connection error) is a
// failure the dispatcher retries.
import { request } from 'node:https';
import { DELIVERY_HEADER, SIGNATURE_HEADER, webhookSignature } from '../domain/alert-delivery.js';
import { CERTPLANE_VERSION } from '../lib/version.js';

export interface WebhookTarget {
  url: string;
  secret: string;
  /** PEM CA bundle; '' = the system's trusted CAs. */
  caCertificate: string;
  timeoutMs?: number;
}

export function postAlertWebhook(target: WebhookTarget, deliveryId: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': `certplane/${CERTPLANE_VERSION}`,
          [SIGNATURE_HEADER]: webhookSignature(target.secret, body),
          [DELIVERY_HEADER]: deliveryId,
        },
        ...(target.caCertificate === '' ? {} : { ca: target.caCertificate }),
        timeout: target.timeoutMs ?? 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`the webhook answered HTTP ${status}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the webhook did not answer in time')));
    req.on('error', reject);
    req.end(body);
  });
}
