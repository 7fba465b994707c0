// Certificate-expiry alerts against the built server: the leader's expiry checker raises
// cluster_certs_about_to_expire for a proxy certificate inside the threshold, clears and raises it again as the
// threshold moves, clears it when the certificate is replaced, stays silent while the alert is disabled, and does
// not raise an alert again after a restart (the raised set lives in the store).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { selfSigned, type TestCertificate } from '../helpers/pki.js';
import { waitFor } from '../helpers/redis-cli.js';

const DAY = 86_400_000;
let node: TestNode;
let short: TestCertificate;
let long: TestCertificate;

const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path, body, auth: node.admin });

type Event = Record<string, unknown>;

async function expiryEvents(): Promise<Event[]> {
  const response = await api('GET', '/v1/logs');
  expect(response.status).toBe(200);
  return (response.json as Event[]).filter((e) => typeof e.type === 'string' && e.type.endsWith('_about_to_expire'));
}

/** Waits until there are `count` expiry events and returns them. */
function waitForEvents(count: number): Promise<Event[]> {
  return waitFor(`${count} expiry events in GET /v1/logs`, async () => {
    const events = await expiryEvents();
    return events.length >= count ? events : undefined;
  });
}

async function installProxy(cert: TestCertificate): Promise<void> {
  const response = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: cert.chain, key: cert.key }], allow_identity_change: true });
  expect(response.status, response.text).toBe(200);
}

async function setAlert(name: 'cluster_certs_about_to_expire' | 'node_internal_certs_about_to_expire', setting: { enabled?: boolean; threshold?: string }): Promise<void> {
  const response = await api('PUT', '/v1/cluster', { alert_settings: { [name]: setting } });
  expect(response.status, response.text).toBe(200);
}

beforeAll(async () => {
  const leaf = { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256' as const, freshKey: true };
  [short, long] = await Promise.all([selfSigned({ ...leaf, notAfter: new Date(Date.now() + 10 * DAY) }), selfSigned({ ...leaf, notAfter: new Date(Date.now() + 365 * DAY) })]);
  node = await startTestNode();
});

afterAll(async () => {
  await node?.destroy();
});

describe('certificate-expiry alerts', () => {
  it('raises nothing for the fresh cluster certificates (365 and 90 days, threshold 45)', async () => {
    expect(await expiryEvents()).toEqual([]);
  });

  it('raises cluster_certs_about_to_expire once for a proxy certificate expiring in 10 days', async () => {
    await installProxy(short);
    const [event] = await waitForEvents(1);
    const notAfter = new Date(short.x509.validTo).toISOString();
    expect(event).toMatchObject({ type: 'cluster_certs_about_to_expire', state: true, severity: 'WARNING', certificate_name: 'proxy', not_after: notAfter });
    expect(event!.description).toContain('proxy certificate expires on');
    expect(event!.description).toContain(notAfter.slice(0, 10));
    expect(JSON.stringify(event)).not.toContain('PRIVATE KEY');
    await waitFor('the alert in the node log', async () => node.output().includes('"alert":"cluster_certs_about_to_expire"') || undefined);
  });

  it('clears when the threshold drops below the remaining days, and raises again when it is raised', async () => {
    await setAlert('cluster_certs_about_to_expire', { threshold: '5' });
    const afterLowering = await waitForEvents(2);
    expect(afterLowering[1]).toMatchObject({ type: 'cluster_certs_about_to_expire', state: false, severity: 'INFO', certificate_name: 'proxy' });
    await setAlert('cluster_certs_about_to_expire', { threshold: '30' });
    const afterRaising = await waitForEvents(3);
    expect(afterRaising[2]).toMatchObject({ type: 'cluster_certs_about_to_expire', state: true, certificate_name: 'proxy' });
  });

  it('clears when the proxy certificate is replaced by a 365-day certificate', async () => {
    await installProxy(long);
    const events = await waitForEvents(4);
    expect(events[3]).toMatchObject({ type: 'cluster_certs_about_to_expire', state: false, certificate_name: 'proxy' });
    expect(events[3]!.description).toContain('was replaced');
  });

  it('adds no event while the alert is disabled', async () => {
    await setAlert('cluster_certs_about_to_expire', { enabled: false });
    await installProxy(short);
    // A barrier that proves a check ran after both changes: the node-internal alert with a threshold above the
    // internode certificates' 90 days raises for both of them, and nothing else appears.
    await setAlert('node_internal_certs_about_to_expire', { threshold: '100' });
    const events = await waitForEvents(6);
    expect(events.slice(4).map((e) => [e.type, e.certificate_name, e.state]).sort()).toEqual([
      ['node_internal_certs_about_to_expire', 'ccs_internode_encryption', true],
      ['node_internal_certs_about_to_expire', 'data_internode_encryption', true],
    ]);
    expect(await expiryEvents()).toHaveLength(6);
  });

  it('does not raise the same alerts again after a restart', async () => {
    await node.stop();
    const restarted = await startTestNode({ dataDir: node.dataDir, port: node.port, admin: node.admin });
    const previous = node;
    node = restarted;
    // Cleanup of the shared data dir when this node is destroyed.
    node.destroy = async () => {
      await restarted.stop();
      await rm(previous.dataDir, { recursive: true, force: true });
    };
    // The restarted leader's first check has run once the log says the node is ready and a change is picked up:
    // re-enabling the cluster alert raises for the 10-day proxy certificate, and nothing for the internode ones.
    await setAlert('cluster_certs_about_to_expire', { enabled: true });
    const events = await waitForEvents(7);
    expect(events[6]).toMatchObject({ type: 'cluster_certs_about_to_expire', state: true, certificate_name: 'proxy' });
    expect(await expiryEvents()).toHaveLength(7);
  });
});
