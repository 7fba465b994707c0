// Alerts against the built server, a real SMTP server (Debian's aiosmtpd) and an HTTPS webhook receiver:
// the RS alert objects of GET /v1/cluster/alerts and /v1/nodes/alerts, alert_settings thresholds that raise and
// clear alerts (also events in /v1/logs), delivery by e-mail and a signed webhook (retried when the receiver
// answers 500 or is down), an SMTP server that never answers (the API stays fast, the alert still shows),
// invalid settings refused with nothing changed, who may read alerts and change their settings, and the
// write-only smtp_password and webhook secret.
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createTestUser } from '../helpers/test-users.js';
import { startSmtpServer, type SmtpServer } from '../helpers/smtp-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/redis-cli.js';

const SECRET = 'a-shared-webhook-secret-0123456789';
const SMTP_PASSWORD = 'Smtp-Password-never-shown-42';

let node: TestNode;
let smtp: SmtpServer;
let hook: WebhookReceiver;

const api = (method: string, path: string, body?: unknown, auth: Credentials = node.admin): Promise<ApiResponse> => apiRequest(node.port, { method, path, body, auth });

type Json = Record<string, any>;

async function alertEvents(type: string): Promise<Json[]> {
  const response = await api('GET', '/v1/logs');
  expect(response.status).toBe(200);
  return (response.json as Json[]).filter((e) => e.type === type);
}

async function nodeAlert(name: string): Promise<Json> {
  const response = await api('GET', '/v1/nodes/1/alerts');
  expect(response.status, response.text).toBe(200);
  return response.json[name] as Json;
}

function hooksFor(alert: string, state: 'raised' | 'cleared'): Json[] {
  return hook.requests.filter((r) => r.status === 200).map((r) => JSON.parse(r.body) as Json).filter((b) => b.alert === alert && b.state === state);
}

beforeAll(async () => {
  [smtp, hook] = await Promise.all([startSmtpServer(), startWebhookReceiver()]);
  node = await startTestNode();
}, 120_000);

afterAll(async () => {
  await node?.destroy();
  await smtp?.close();
  await hook?.close();
});

describe('alert state', () => {
  it('lists every cluster alert as an RS alert object, not raised, with string thresholds', async () => {
    const response = await api('GET', '/v1/cluster/alerts');
    expect(response.status, response.text).toBe(200);
    expect(Object.keys(response.json).sort()).toEqual(['cluster_acme_renewal_failed', 'cluster_ca_cert_about_to_expire', 'cluster_certs_about_to_expire', 'cluster_crl_missing_or_expired', 'cluster_ocsp_query_failed', 'cluster_ocsp_status_revoked']);
    expect(response.json.cluster_certs_about_to_expire).toMatchObject({ enabled: true, state: false, severity: 'WARNING', threshold: '45', change_value: { state: false } });
    expect(response.json.cluster_ocsp_query_failed).toMatchObject({ enabled: true, state: false, severity: 'ERROR' });
    expect(response.json.cluster_ocsp_query_failed.threshold).toBeUndefined();
    const one = await api('GET', '/v1/cluster/alerts/cluster_certs_about_to_expire');
    expect(one.json).toEqual(response.json.cluster_certs_about_to_expire);
    expect((await api('GET', '/v1/cluster/alerts/no_such_alert')).status).toBe(404);
  });

  it('lists the node alerts per node: /v1/nodes/alerts, /v1/nodes/alerts/{uid}, /v1/nodes/{uid}/alerts', async () => {
    const all = await api('GET', '/v1/nodes/alerts');
    expect(all.status, all.text).toBe(200);
    expect(Object.keys(all.json)).toEqual(['1']);
    expect(all.json['1'].node_internal_certs_about_to_expire).toMatchObject({ enabled: true, state: false, severity: 'WARNING', threshold: '45' });
    expect((await api('GET', '/v1/nodes/alerts/1')).json).toEqual(all.json['1']);
    expect((await api('GET', '/v1/nodes/1/alerts')).json).toEqual(all.json['1']);
    expect((await api('GET', '/v1/nodes/alerts/1/node_internal_certs_about_to_expire')).json).toEqual(all.json['1'].node_internal_certs_about_to_expire);
    expect((await api('GET', '/v1/nodes/alerts/7')).status).toBe(404);
    expect((await api('GET', '/v1/nodes/7/alerts')).status).toBe(404);
  });

  it('lets every role with view_*_alerts read alerts, and refuses the role none and anonymous callers', async () => {
    const viewer = await createTestUser(node, 'db_viewer');
    const nobody = await createTestUser(node, 'none');
    for (const path of ['/v1/cluster/alerts', '/v1/nodes/alerts', '/v1/nodes/1/alerts', '/v1/nodes/alerts/1']) {
      expect((await api('GET', path, undefined, viewer)).status, path).toBe(200);
      expect((await api('GET', path, undefined, nobody)).status, path).toBe(403);
      expect((await apiRequest(node.port, { method: 'GET', path, auth: null })).status, path).toBe(401);
    }
  });
});

describe('alert settings: bad input and permissions', () => {
  it.each([
    [{ alert_settings: { cluster_certs_about_to_expire: { threshold: '0' } } }],
    [{ alert_settings: { node_internal_certs_about_to_expire: { threshold: '366' } } }],
    [{ alert_settings: { cluster_certs_about_to_expire: { threshold: '4x' } } }],
    [{ alert_settings: { cluster_certs_about_to_expire: { threshold: 30 } } }],
    [{ alert_settings: { cluster_ocsp_query_failed: 'yes' } }],
    [{ alert_settings: { node_failed: true } }],
    [{ smtp_tls_mode: 'ssl' }],
    [{ smtp_port: 0 }],
    [{ smtp_port: 70000 }],
    [{ email_alerts: true }],
    [{ email_from: 'not an address' }],
    [{ alert_webhook: { url: 'http://127.0.0.1/hook' } }],
    [{ alert_webhook: { url: 'https://user:pw@127.0.0.1/hook' } }],
    [{ alert_webhook: { url: 'https://127.0.0.1/hook', enabled: true } }],
    [{ alert_webhook: { url: 'https://127.0.0.1/hook', enabled: true, secret: 'short' } }],
    [{ alert_webhook: { url: 'https://127.0.0.1/hook', ca_certificate: 'not a certificate' } }],
    [{ alert_webhook: { enabled: true, secret: SECRET } }],
    [{ alert_webhook: { url: 'https://127.0.0.1/hook', extra: 1 } }],
  ])('refuses %j with 400 invalid_schema and changes nothing', async (body) => {
    const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', body));
    expect(response.status, response.text).toBe(400);
    expect(response.json.error_code).toBe('invalid_schema');
  });

  it('lets only admins change alert and delivery settings (403, nothing changed)', async () => {
    for (const role of ['cluster_member', 'cluster_viewer', 'user_manager'] as const) {
      const user = await createTestUser(node, role);
      const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', { alert_settings: { cluster_certs_about_to_expire: { threshold: '10' } }, smtp_password: 'x' }, user));
      expect(response.status, role).toBe(403);
    }
  });
});

describe('delivery settings', () => {
  it('stores SMTP and webhook settings; smtp_password and the webhook secret are never returned', async () => {
    const put = await api('PUT', '/v1/cluster', {
      email_alerts: true,
      email_from: 'certplane@cluster.local',
      smtp_host: '127.0.0.1',
      smtp_port: smtp.port,
      smtp_password: SMTP_PASSWORD,
      smtp_tls_mode: 'none',
      alert_webhook: { enabled: true, url: hook.url, secret: SECRET, ca_certificate: hook.ca.certificate },
    });
    expect(put.status, put.text).toBe(200);
    const get = await api('GET', '/v1/cluster');
    for (const response of [put, get]) {
      expect(response.json).toMatchObject({ email_alerts: true, smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_tls_mode: 'none', alert_webhook: { enabled: true, url: hook.url } });
      expect(response.json).not.toHaveProperty('smtp_password');
      expect(response.json.alert_webhook).not.toHaveProperty('secret');
      expect(response.text).not.toContain(SMTP_PASSWORD);
      expect(response.text).not.toContain(SECRET);
    }
    // Nor in the event log (which names the changed secrets), nor in the node's log.
    const logs = await api('GET', '/v1/logs');
    expect(logs.text).not.toContain(SMTP_PASSWORD);
    expect(logs.text).not.toContain(SECRET);
    expect((logs.json as Json[]).some((e) => e.type === 'cluster_updated' && e.changed_fields.includes('smtp_password') && e.changed_fields.includes('alert_webhook.secret'))).toBe(true);
    expect(node.output()).not.toContain(SMTP_PASSWORD);
    expect(node.output()).not.toContain(SECRET);
    // A partial webhook update keeps the stored url and secret.
    expect((await api('PUT', '/v1/cluster', { alert_webhook: { enabled: true } })).status).toBe(200);
  });
});

describe('alert life cycle', () => {
  it('raises node_internal_certs_about_to_expire when the threshold passes the internode certificates, delivers it by e-mail and webhook (retried after a 500), and clears it', async () => {
    hook.failNext(1);
    const raisedAt = Date.now();
    expect((await api('PUT', '/v1/cluster', { alert_settings: { node_internal_certs_about_to_expire: { threshold: '100' } } })).status).toBe(200);

    // Raised: the alert object, the events, the e-mail, the webhook.
    const alert = await waitFor('the node alert raised', async () => {
      const a = await nodeAlert('node_internal_certs_about_to_expire');
      return a.state === true ? a : undefined;
    });
    expect(alert).toMatchObject({ enabled: true, state: true, severity: 'WARNING', threshold: '100', change_value: { state: true, threshold: '100' } });
    expect(Date.parse(alert.change_time)).toBeGreaterThanOrEqual(raisedAt - 2000);
    expect(alert.subjects.map((s: Json) => s.subject).sort()).toEqual(['ccs_internode_encryption', 'data_internode_encryption']);
    const events = await alertEvents('node_internal_certs_about_to_expire');
    expect(events.filter((e) => e.state === true).map((e) => e.certificate_name).sort()).toEqual(['ccs_internode_encryption', 'data_internode_encryption']);

    const mails = await waitFor('two alert e-mails', async () => {
      const m = (await smtp.messages()).filter((x) => x.subject.includes('RAISED: node_internal_certs_about_to_expire'));
      return m.length >= 2 ? m : undefined;
    });
    expect(mails[0]!.from).toContain('certplane@cluster.local');
    expect(mails[0]!.to).toContain('admin@cluster.local');
    expect(mails.map((m) => m.body).join('\n')).toMatch(/internode_encryption certificate expires on/);

    const hooks = await waitFor('two webhook deliveries', async () => (hooksFor('node_internal_certs_about_to_expire', 'raised').length >= 2 ? hook.requests : undefined), 30_000);
    // Every request is signed with HMAC-SHA256 over the exact body; the first was answered 500 and retried.
    for (const request of hooks) {
      expect(request.headers['x-certplane-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`);
      expect(request.headers['content-type']).toBe('application/json');
    }
    const failed = hooks.find((r) => r.status === 500)!;
    expect(failed).toBeDefined();
    const retried = hooks.find((r) => r.status === 200 && r.headers['x-certplane-delivery'] === failed.headers['x-certplane-delivery'])!;
    expect(retried.at).toBeGreaterThan(failed.at);
    expect(JSON.parse(retried.body)).toMatchObject({ version: 1, cluster: 'cluster.local', alert: 'node_internal_certs_about_to_expire', entity: 'node', state: 'raised', severity: 'WARNING' });
    await waitFor('the retry in the node log', async () => node.output().includes('not delivered; retrying') || undefined);

    // Cleared when the threshold drops below the days left.
    expect((await api('PUT', '/v1/cluster', { alert_settings: { node_internal_certs_about_to_expire: { threshold: '45' } } })).status).toBe(200);
    const cleared = await waitFor('the node alert cleared', async () => {
      const a = await nodeAlert('node_internal_certs_about_to_expire');
      return a.state === false ? a : undefined;
    });
    expect(cleared).toMatchObject({ state: false, change_value: { state: false }, subjects: [] });
    expect((await alertEvents('node_internal_certs_about_to_expire')).filter((e) => e.state === false)).toHaveLength(2);
    await waitFor('the clear e-mails', async () => ((await smtp.messages()).filter((x) => x.subject.includes('CLEARED: node_internal_certs_about_to_expire')).length >= 2) || undefined);
    await waitFor('the clear webhooks', async () => hooksFor('node_internal_certs_about_to_expire', 'cleared').length >= 2 || undefined, 30_000);
  });

  it('retries the webhook while the receiver is down and delivers once it is back', async () => {
    await hook.stop();
    expect((await api('PUT', '/v1/cluster', { alert_settings: { cluster_certs_about_to_expire: { threshold: '365' } } })).status).toBe(200);
    await waitFor('the cluster alert raised', async () => ((await api('GET', '/v1/cluster/alerts')).json.cluster_certs_about_to_expire.state === true) || undefined);
    await waitFor('a failed webhook attempt in the node log', async () => /"channels":\["webhook"\][^\n]*not delivered; retrying/.test(node.output()) || undefined);
    await hook.start();
    await waitFor('the webhook delivered after the receiver came back', async () => hooksFor('cluster_certs_about_to_expire', 'raised').length >= 1 || undefined, 60_000);
    expect((await api('PUT', '/v1/cluster', { alert_settings: { cluster_certs_about_to_expire: { threshold: '45' } } })).status).toBe(200);
    await waitFor('the cluster alert cleared', async () => ((await api('GET', '/v1/cluster/alerts')).json.cluster_certs_about_to_expire.state === false) || undefined);
  });

  it('keeps the API fast and the alert raised while the SMTP server accepts connections and never answers', async () => {
    const sockets: net.Socket[] = [];
    const blackhole = net.createServer((socket) => sockets.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => blackhole.listen(port, '127.0.0.1', resolve));
    try {
      expect((await api('PUT', '/v1/cluster', { smtp_port: port, alert_webhook: { enabled: false } })).status).toBe(200);
      expect((await api('PUT', '/v1/cluster', { alert_settings: { cluster_certs_about_to_expire: { threshold: '365' } } })).status).toBe(200);
      await waitFor('the cluster alert raised', async () => ((await api('GET', '/v1/cluster/alerts')).json.cluster_certs_about_to_expire.state === true) || undefined);
      await waitFor('the dispatcher connected to the silent SMTP server', async () => sockets.length > 0 || undefined);
      // While the dispatcher waits for a greeting that never comes, the API answers at once.
      for (const [method, path, body] of [['GET', '/v1/cluster/alerts'], ['GET', '/v1/nodes/1/alerts'], ['GET', '/v1/logs'], ['PUT', '/v1/cluster', { email_from: 'alerts@cluster.local' }]] as const) {
        const started = performance.now();
        const response = await api(method, path, body);
        const elapsed = performance.now() - started;
        expect(response.status, path).toBe(200);
        expect(elapsed, `${method} ${path} took ${elapsed.toFixed(0)} ms`).toBeLessThan(1000);
      }
      await waitFor('the SMTP timeout logged and retried', async () => /"channels":\["email"\][^\n]*not delivered; retrying/.test(node.output()) || undefined, 40_000);
      expect((await api('GET', '/v1/cluster/alerts')).json.cluster_certs_about_to_expire).toMatchObject({ state: true, threshold: '365' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => blackhole.close(r));
    }
  });
});
