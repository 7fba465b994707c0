import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getJson, listJson, putValue, type Compare } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { openTempStore, type TempStore } from '../../test/helpers/temp-store.js';
import { FakeTime } from '../../test/helpers/fake-time.js';
import type { AlertDelivery } from '../domain/alert-delivery.js';
import type { AlertRecord } from '../domain/alerts.js';
import { setAlert } from './alert-records.js';
import { AlertDispatcher, type AlertSenders } from './alert-dispatcher.js';

const START = Date.parse('2026-03-01T10:00:00Z');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

let temp: TempStore;
let time: FakeTime;
let sent: Array<{ channel: string; to?: string[]; subject?: string; body?: string }>;
let failEmail: number;
let dispatcher: AlertDispatcher | undefined;

const senders: AlertSenders = {
  email: async (_target, message) => {
    if (failEmail > 0) {
      failEmail -= 1;
      throw new Error('connection refused');
    }
    sent.push({ channel: 'email', to: message.to, subject: message.subject });
  },
  webhook: async (_target, _id, body) => {
    sent.push({ channel: 'webhook', body });
  },
};

async function configure(delivery: { email?: boolean; webhook?: boolean }): Promise<void> {
  await putValue(
    temp.store,
    keys.cluster,
    JSON.stringify({
      name: 'c.example',
      email_alerts: delivery.email ?? false,
      smtp_host: 'mail.example',
      alert_webhook: { enabled: delivery.webhook ?? false, url: 'https://hooks.example/x', ca_certificate: '' },
    }),
  );
  await putValue(temp.store, keys.alertSecrets, JSON.stringify({ webhook_secret: 'w'.repeat(20) }));
  await putValue(temp.store, keys.user(1), JSON.stringify({ uid: 1, email: 'admin@c.example', email_alerts: true }));
}

async function raise(subject = 'proxy'): Promise<void> {
  const ok = await setAlert(temp.store, time.clock, { name: 'cluster_certs_about_to_expire', subject, raised: true, severity: 'WARNING', value: { threshold: '45' }, description: `${subject} expires soon` });
  expect(ok).toBe(true);
}

async function start(extra: { fence?: () => Compare | undefined; giveUpAfterMs?: number } = {}): Promise<AlertDispatcher> {
  dispatcher = new AlertDispatcher({
    store: temp.store,
    clock: time.clock,
    log: silent,
    timer: time,
    senders,
    retry: { firstDelayMs: 1000, maxDelayMs: 60_000, giveUpAfterMs: extra.giveUpAfterMs ?? 86_400_000 },
    ...(extra.fence === undefined ? {} : { fence: extra.fence }),
  });
  time.subject = dispatcher;
  await dispatcher.start();
  await time.settle();
  return dispatcher;
}

beforeEach(async () => {
  temp = await openTempStore('certplane-alerts-');
  time = new FakeTime(START);
  sent = [];
  failEmail = 0;
  dispatcher = undefined;
});

afterEach(async () => {
  await dispatcher?.close();
  await temp.destroy();
});

describe('setAlert (the alert store)', () => {
  it('raises once: the record, one event in the log and one queued delivery; a refresh adds neither', async () => {
    await raise();
    await raise();
    const record = await getJson<AlertRecord>(temp.store, keys.alert('cluster', 'cluster_certs_about_to_expire'));
    expect(record).toMatchObject({ state: true, severity: 'WARNING', change_value: { state: true, threshold: '45' } });
    expect(await listJson(temp.store, keys.eventPrefix)).toMatchObject([{ type: 'cluster_certs_about_to_expire', state: true, subject: 'proxy' }]);
    expect(await listJson<AlertDelivery>(temp.store, keys.alertOutboxPrefix)).toMatchObject([{ alert: 'cluster_certs_about_to_expire', pending: ['email', 'webhook'] }]);
  });

  it('refuses to write when the fence fails', async () => {
    const fence: Compare = { key: '/certplane/leaders/cluster', target: 'value', op: '==', value: 'someone-else' };
    expect(await setAlert(temp.store, time.clock, { name: 'cluster_ocsp_query_failed', subject: '', raised: true, severity: 'ERROR', value: {}, description: 'x' }, { fence: () => fence })).toBe(false);
    expect(await listJson(temp.store, keys.alertPrefix)).toEqual([]);
  });
});

describe('AlertDispatcher', () => {
  it('delivers by e-mail and webhook, retries only the failed channel with backoff, then forgets the delivery', async () => {
    await configure({ email: true, webhook: true });
    failEmail = 1;
    await raise();
    const d = await start();
    expect(sent.map((s) => s.channel)).toEqual(['webhook']);
    const [queued] = await listJson<AlertDelivery>(temp.store, keys.alertOutboxPrefix);
    expect(queued).toMatchObject({ pending: ['email'], attempts: 1, last_error: 'email: connection refused', next_attempt_at: new Date(START + 1000).toISOString() });
    await time.advanceMs(1000);
    expect(sent.map((s) => s.channel)).toEqual(['webhook', 'email']);
    expect(sent[1]).toMatchObject({ to: ['admin@c.example'], subject: '[c.example] RAISED: cluster_certs_about_to_expire (WARNING)' });
    expect(await listJson(temp.store, keys.alertOutboxPrefix)).toEqual([]);
    expect(d.state).toMatchObject({ name: 'idle' });
  });

  it('counts channels that are not configured as delivered', async () => {
    await configure({});
    await raise();
    await start();
    expect(sent).toEqual([]);
    expect(await listJson(temp.store, keys.alertOutboxPrefix)).toEqual([]);
  });

  it('backs off exponentially and gives up after the limit with an alert_delivery_failed event', async () => {
    await configure({ email: true });
    failEmail = 100;
    await raise();
    await start({ giveUpAfterMs: 10_000 });
    await time.advanceMs(1000); // attempt 2
    await time.advanceMs(2000); // attempt 3
    expect((await listJson<AlertDelivery>(temp.store, keys.alertOutboxPrefix))[0]).toMatchObject({ attempts: 3, next_attempt_at: new Date(START + 3000 + 4000).toISOString() });
    await time.advanceMs(20_000);
    expect(await listJson(temp.store, keys.alertOutboxPrefix)).toEqual([]);
    const failed = (await listJson<{ type: string }>(temp.store, keys.eventPrefix)).filter((e) => e.type === 'alert_delivery_failed');
    expect(failed).toMatchObject([{ type: 'alert_delivery_failed', severity: 'ERROR', alert: 'cluster_certs_about_to_expire', channels: ['email'] }]);
  });

  it('records nothing without the leader fence (the next leader delivers again: at least once)', async () => {
    await configure({ webhook: true });
    await raise();
    const fence: Compare = { key: '/certplane/leaders/cluster', target: 'value', op: '==', value: 'someone-else' };
    const d = await start({ fence: () => fence });
    expect(sent.map((s) => s.channel)).toEqual(['webhook']);
    expect(await listJson(temp.store, keys.alertOutboxPrefix)).toHaveLength(1);
    expect(d.state).toMatchObject({ name: 'backoff' });
  });
});
