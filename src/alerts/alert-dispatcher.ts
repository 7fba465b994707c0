// The alert dispatcher: delivers the alert events queued by the alert store (keys.alertOutbox) by e-mail (the
// cluster's SMTP settings, to the users who asked for alerts) and to the webhook. Runs on one node (the leader:
// start()/close() are called by the composition root as leadership comes and goes); its writes carry the fence.
// It never blocks anything: the API and the checkers only queue (a key in the store); sending happens here, with
// bounded timeouts. At least once: a queued delivery is deleted only once every configured channel took it, so a
// crash or a leader change between sending and recording sends it again. A channel that is not configured when
// its turn comes counts as delivered (nothing to send to). Failed channels are retried with exponential backoff
// (domain/alert-delivery.ts DELIVERY_RETRY) and given up after a day (logged, and an `alert_delivery_failed` event).
//
// States and transitions:
//   stopped --start()--> delivering
//   delivering --queue empty--> idle --queue or settings change--> delivering
//   delivering --nothing due yet--> waiting(earliest retry) --timer / change--> delivering
//   delivering --sent and recorded--> delivering (more due) | waiting | idle
//   delivering --record refused (fence lost)--> backoff --timer--> delivering
//   delivering --store error--> backoff --timer / change--> delivering
//   any --close()--> closed (sends under way finish or time out; their outcome is not recorded: sent again later)
import { LoopWorker, type LoopTimer, type WorkerLog } from '../lib/loop.js';
import type { Clock } from '../lib/clock.js';
import type { ClusterStore, Compare, KeyValue, TxnOp, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { eventPutOp } from '../store/event-log.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';
import type { ClusterDocument } from '../domain/cluster-settings.js';
import {
  DELIVERY_RETRY,
  alertDeliveryFieldsOf,
  alertEmail,
  alertRecipients,
  retryDelayMs,
  webhookBody,
  type AlertDelivery,
  type AlertDeliveryFields,
  type AlertRecipientCandidate,
  type AlertSecrets,
  type DeliveryChannel,
} from '../domain/alert-delivery.js';
import { sendAlertEmail, type EmailMessage, type SmtpTarget } from './email-sender.js';
import { postAlertWebhook, type WebhookTarget } from './webhook-sender.js';

export type AlertDispatcherState =
  | { name: 'stopped' }
  | { name: 'delivering'; due: number }
  | { name: 'idle' }
  | { name: 'waiting'; dueAt: Date }
  | { name: 'backoff'; reason: string; retryAt: Date }
  | { name: 'closed' };

/** The senders (replaced in unit tests). */
export interface AlertSenders {
  email(target: SmtpTarget, message: EmailMessage): Promise<void>;
  webhook(target: WebhookTarget, deliveryId: string, body: string): Promise<void>;
}

export const realSenders: AlertSenders = { email: sendAlertEmail, webhook: postAlertWebhook };

export interface AlertDispatcherDeps {
  store: ClusterStore;
  clock: Clock;
  log: WorkerLog;
  timer?: LoopTimer;
  fence?: () => Compare | undefined;
  senders?: AlertSenders;
  retry?: { firstDelayMs: number; maxDelayMs: number; giveUpAfterMs: number };
  /** Deliveries sent at once (default 8). */
  batch?: number;
}

/** What a pass reads once for all its deliveries. */
interface DeliveryContext {
  cluster: string;
  fields: AlertDeliveryFields;
  secrets: AlertSecrets;
  recipients: string[];
}

export class AlertDispatcher extends LoopWorker<AlertDispatcherState> {
  /** Delivery attempts made (tests and diagnostics). */
  attempts = 0;
  private readonly retry: { firstDelayMs: number; maxDelayMs: number; giveUpAfterMs: number };

  constructor(private readonly deps: AlertDispatcherDeps) {
    super({ ...deps, failure: 'alert dispatcher could not read or write the store; retrying', retryDelayMs: 5000 });
    this.retry = deps.retry ?? DELIVERY_RETRY;
  }

  protected follow(wake: () => void): Promise<Watch[]> {
    return followPrefixesWaking(this.deps.store, [keys.alertOutboxPrefix, keys.cluster, keys.alertSecrets], wake);
  }

  protected async pass(): Promise<void> {
    const { store, clock } = this.deps;
    const queued = await store.list(keys.alertOutboxPrefix);
    if (this.isClosed()) return;
    if (queued.kvs.length === 0) {
      this.state = { name: 'idle' };
      return;
    }
    const now = clock.now();
    const entries = queued.kvs.map((kv) => ({ kv, delivery: JSON.parse(kv.value) as AlertDelivery }));
    const due = entries.filter((e) => Date.parse(e.delivery.next_attempt_at) <= now.getTime()).slice(0, this.deps.batch ?? 8);
    if (due.length === 0) {
      const next = Math.min(...entries.map((e) => Date.parse(e.delivery.next_attempt_at)));
      this.state = { name: 'waiting', dueAt: new Date(next) };
      this.loop.schedule(Math.max(0, next - now.getTime()));
      return;
    }
    this.state = { name: 'delivering', due: due.length };
    const context = await this.readContext();
    if (this.isClosed()) return;
    const outcomes = await Promise.all(due.map((e) => this.attempt(e.delivery, context)));
    if (this.isClosed()) return;
    for (const [index, entry] of due.entries()) {
      const recorded = await this.record(entry.kv, entry.delivery, outcomes[index]!);
      if (this.isClosed()) return;
      if (!recorded) {
        this.enterBackoff('a delivery outcome could not be recorded (not the leader)', this.loop.backOff());
        this.deps.log.warn({}, 'alert delivery outcome not recorded (leadership lost or concurrent writes); retrying later');
        return;
      }
    }
    // The next pass finds what is due next (the writes above also wake it through the watch).
    this.loop.wake();
  }

  private async readContext(): Promise<DeliveryContext> {
    const [clusterKv, secretsKv, users] = await Promise.all([this.deps.store.get(keys.cluster), this.deps.store.get(keys.alertSecrets), this.deps.store.list(keys.userPrefix)]);
    const cluster = clusterKv === undefined ? undefined : (JSON.parse(clusterKv.value) as Partial<ClusterDocument>);
    return {
      cluster: cluster?.name ?? 'certplane',
      fields: alertDeliveryFieldsOf(cluster),
      secrets: secretsKv === undefined ? {} : (JSON.parse(secretsKv.value) as AlertSecrets),
      recipients: alertRecipients(users.kvs.map((kv) => JSON.parse(kv.value) as AlertRecipientCandidate)),
    };
  }

  /** Sends on every pending channel; returns the channels that failed, with why. */
  private async attempt(delivery: AlertDelivery, context: DeliveryContext): Promise<Map<DeliveryChannel, string>> {
    this.attempts += 1;
    const senders = this.deps.senders ?? realSenders;
    const failed = new Map<DeliveryChannel, string>();
    const { fields, secrets } = context;
    await Promise.all(
      delivery.pending.map(async (channel) => {
        try {
          if (channel === 'email') {
            if (!fields.email_alerts || fields.smtp_host === '' || context.recipients.length === 0) return;
            const { subject, text } = alertEmail(delivery, context.cluster);
            const from = fields.email_from === '' ? `certplane@${context.cluster}` : fields.email_from;
            await senders.email({ fields, password: secrets.smtp_password }, { from, to: context.recipients, subject, text });
          } else {
            const webhook = fields.alert_webhook;
            if (!webhook.enabled || webhook.url === '' || secrets.webhook_secret === undefined) return;
            const body = JSON.stringify(webhookBody(delivery, context.cluster));
            await senders.webhook({ url: webhook.url, secret: secrets.webhook_secret, caCertificate: webhook.ca_certificate }, delivery.id, body);
          }
          this.deps.log.info({ alert: delivery.alert, state: delivery.event.state, channel, delivery_id: delivery.id }, `alert ${delivery.alert} delivered by ${channel}`);
        } catch (error) {
          failed.set(channel, (error as Error).message);
        }
      }),
    );
    return failed;
  }

  /** Deletes a delivery that is done (or given up), or records the failed channels and when to retry. */
  private async record(kv: KeyValue, delivery: AlertDelivery, failed: Map<DeliveryChannel, string>): Promise<boolean> {
    const now = this.deps.clock.now();
    const ops: TxnOp[] = [];
    if (failed.size === 0) {
      ops.push({ type: 'delete', key: kv.key });
    } else {
      const attempts = delivery.attempts + 1;
      const lastError = [...failed].map(([channel, why]) => `${channel}: ${why}`).join('; ');
      if (now.getTime() - Date.parse(delivery.created_at) >= this.retry.giveUpAfterMs) {
        ops.push({ type: 'delete', key: kv.key });
        const event = {
          time: now.toISOString(),
          type: 'alert_delivery_failed',
          severity: 'ERROR',
          alert: delivery.alert,
          alert_state: delivery.event.state,
          channels: [...failed.keys()],
          attempts,
          description: `The ${delivery.alert} alert event could not be delivered after ${attempts} attempts (${lastError}); given up`,
        };
        ops.push(eventPutOp(event));
        this.deps.log.error({ alert: delivery.alert, delivery_id: delivery.id, attempts, reason: lastError }, event.description);
      } else {
        const delay = retryDelayMs(attempts, this.retry);
        const next: AlertDelivery = {
          ...delivery,
          pending: delivery.pending.filter((c) => failed.has(c)),
          attempts,
          next_attempt_at: new Date(now.getTime() + delay).toISOString(),
          last_error: lastError,
        };
        ops.push({ type: 'put', key: kv.key, value: JSON.stringify(next) });
        this.deps.log.warn({ alert: delivery.alert, delivery_id: delivery.id, channels: [...failed.keys()], attempts, retry_in_ms: delay, reason: lastError }, `alert ${delivery.alert} not delivered; retrying`);
      }
    }
    const compare: Compare[] = [{ key: kv.key, target: 'mod', op: '==', value: kv.modRevision }];
    const fence = this.deps.fence?.();
    if (fence !== undefined) compare.push(fence);
    const result = await this.deps.store.txn({ compare, success: ops });
    if (result.succeeded) return true;
    // The entry itself changed or vanished (another writer): nothing to record here. Otherwise the fence failed.
    const current = await this.deps.store.get(kv.key);
    return (current?.modRevision ?? 0) !== kv.modRevision;
  }
}
