// OCSP alerts against the built server and a real `openssl ocsp` responder: a responder that stops answering
// raises cluster_ocsp_query_failed (after recovery_max_tries failed recovery queries, DESIGN.md) in
// GET /v1/cluster/alerts, /v1/logs and the webhook, cleared when it answers again; a revoked proxy certificate
// raises cluster_ocsp_status_revoked, cleared when the proxy certificate is replaced by a good one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import type { TestCertificate } from '../helpers/pki.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { waitFor } from '../helpers/redis-cli.js';

let node: TestNode;
let responder: OcspResponder;
let hook: WebhookReceiver;
let proxy: TestCertificate;
let renewed: TestCertificate;

const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path, body, auth: node.admin });

type Json = Record<string, any>;

async function clusterAlert(name: string): Promise<Json> {
  const response = await api('GET', `/v1/cluster/alerts/${name}`);
  expect(response.status, response.text).toBe(200);
  return response.json as Json;
}

function waitForAlertState(name: string, state: boolean): Promise<Json> {
  return waitFor(`${name} ${state ? 'raised' : 'cleared'}`, async () => {
    const alert = await clusterAlert(name);
    return alert.state === state ? alert : undefined;
  });
}

async function events(type: string): Promise<Json[]> {
  return ((await api('GET', '/v1/logs')).json as Json[]).filter((e) => e.type === type);
}

function hooksFor(alert: string, state: 'raised' | 'cleared'): Json[] {
  return hook.requests.filter((r) => r.status === 200).map((r) => JSON.parse(r.body) as Json).filter((b) => b.alert === alert && b.state === state);
}

async function installProxy(cert: TestCertificate): Promise<void> {
  const response = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: cert.chain, key: cert.key }] });
  expect(response.status, response.text).toBe(200);
}

beforeAll(async () => {
  [responder, hook] = await Promise.all([startOcspResponder(), startWebhookReceiver()]);
  const leaf = { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256' as const, freshKey: true };
  proxy = await responder.issue(leaf);
  renewed = await responder.issue(leaf);
  node = await startTestNode();
  const settings = await api('PUT', '/v1/cluster', { alert_webhook: { enabled: true, url: hook.url, secret: 'ocsp-alert-webhook-secret-123', ca_certificate: hook.ca.certificate } });
  expect(settings.status, settings.text).toBe(200);
  await installProxy(proxy);
  const ocsp = await api('PUT', '/v1/ocsp', { ocsp_functionality: true, recovery_max_tries: 1 });
  expect(ocsp.status, ocsp.text).toBe(200);
  await waitFor('the first GOOD status', async () => ((await api('GET', '/v1/ocsp/status')).json.cert_status === 'GOOD') || undefined);
}, 120_000);

afterAll(async () => {
  await node?.destroy();
  await responder?.close();
  await hook?.close();
});

describe('OCSP alerts', () => {
  it('raises cluster_ocsp_query_failed when the responder stops answering, and clears it when it answers again', async () => {
    expect(await clusterAlert('cluster_ocsp_query_failed')).toMatchObject({ state: false, enabled: true, severity: 'ERROR' });
    await responder.stop();
    // recovery_max_tries 1: the first failure starts recovery, the second drops the status and raises the alert.
    expect((await api('POST', '/v1/ocsp/test')).status).toBe(500);
    expect((await clusterAlert('cluster_ocsp_query_failed')).state).toBe(false);
    expect((await api('POST', '/v1/ocsp/test')).status).toBe(500);
    const raised = await waitForAlertState('cluster_ocsp_query_failed', true);
    expect(raised).toMatchObject({ severity: 'ERROR', change_value: { state: true, responder_url: responder.url } });
    expect(raised.change_value.consecutive_failures).toBeGreaterThanOrEqual(2);
    expect(await events('ocsp_query_failed')).toMatchObject([{ state: true, severity: 'ERROR', responder_url: responder.url }]);
    await waitFor('the raise delivered to the webhook', async () => hooksFor('cluster_ocsp_query_failed', 'raised').length === 1 || undefined, 30_000);

    await responder.start();
    expect((await api('POST', '/v1/ocsp/test')).status).toBe(200);
    await waitForAlertState('cluster_ocsp_query_failed', false);
    expect((await events('ocsp_query_failed')).map((e) => e.state)).toEqual([true, false]);
    await waitFor('the clear delivered to the webhook', async () => hooksFor('cluster_ocsp_query_failed', 'cleared').length === 1 || undefined, 30_000);
  });

  it('raises cluster_ocsp_status_revoked for a revoked proxy certificate, and clears it when a good certificate replaces it', async () => {
    await responder.revoke(proxy);
    expect((await api('POST', '/v1/ocsp/test')).json.cert_status).toBe('REVOKED');
    const raised = await waitForAlertState('cluster_ocsp_status_revoked', true);
    expect(raised).toMatchObject({ severity: 'ERROR', change_value: { state: true } });
    expect(raised.subjects[0].description).toContain('revoked');
    await waitFor('the revocation delivered to the webhook', async () => hooksFor('cluster_ocsp_status_revoked', 'raised').length === 1 || undefined, 30_000);

    // The poller queries the new certificate at once; its GOOD status clears the alert of the old one.
    await installProxy(renewed);
    await waitForAlertState('cluster_ocsp_status_revoked', false);
    expect((await events('ocsp_status_revoked')).map((e) => e.state)).toEqual([true, false]);
    await waitFor('the clear delivered to the webhook', async () => hooksFor('cluster_ocsp_status_revoked', 'cleared').length === 1 || undefined, 30_000);
  });

  it('shows a switched-off alert as disabled with state false (RS), and its stored state with ignore_settings', async () => {
    await responder.revoke(renewed);
    expect((await api('POST', '/v1/ocsp/test')).json.cert_status).toBe('REVOKED');
    await waitForAlertState('cluster_ocsp_status_revoked', true);
    expect((await api('PUT', '/v1/cluster', { alert_settings: { cluster_ocsp_status_revoked: false } })).status).toBe(200);
    expect(await clusterAlert('cluster_ocsp_status_revoked')).toMatchObject({ enabled: false, state: false });
    const ignoring = await api('GET', '/v1/cluster/alerts?ignore_settings=true');
    expect(ignoring.json.cluster_ocsp_status_revoked).toMatchObject({ enabled: false, state: true });
  });
});
