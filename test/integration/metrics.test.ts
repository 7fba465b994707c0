// The metrics exporter against a real node: Prometheus text over HTTPS with the metrics_exporter certificate,
// seconds to expiry of every certificate the node serves (v1 and v2 names), values that follow a rotation,
// and the exporter's own certificate hot-reloaded for new connections.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate } from '../helpers/api-client.js';
import { createCa, issueCertificate } from '../helpers/pki.js';

const DAY = 24 * 3600;

function scrape(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function secondsFor(body: string, metric: string, name: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`logical_name="${name}"`));
  if (line === undefined) throw new Error(`no ${metric} for ${name} in:\n${body}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics exporter', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('reports seconds to expiry of every certificate, with cluster, logical_name, node and path labels', async () => {
    const v1 = await scrape(node.metricsPort);
    expect(v1.status).toBe(200);
    expect(v1.body).toContain('# TYPE node_cert_expiration_seconds gauge');
    for (const name of ['api', 'cm', 'proxy', 'syncer', 'metrics_exporter']) {
      const seconds = secondsFor(v1.body, 'node_cert_expiration_seconds', name);
      expect(seconds).toBeGreaterThan(364 * DAY);
      expect(seconds).toBeLessThanOrEqual(365 * DAY);
    }
    expect(secondsFor(v1.body, 'node_cert_expiration_seconds', 'ccs_internode_encryption')).toBeLessThanOrEqual(90 * DAY);
    expect(v1.body).toMatch(new RegExp(`node_cert_expiration_seconds\\{cluster="cluster.local",logical_name="api",node="1",path="${node.dataDir}/certs/api_cert.pem"\\} \\d+`));
    const v2 = await scrape(node.metricsPort, '/v2');
    expect(secondsFor(v2.body, 'node_cert_expires_in_seconds', 'api')).toBeGreaterThan(364 * DAY);
    expect((await scrape(node.metricsPort, '/nope')).status).toBe(404);
  });

  it('follows a rotation, and serves with a rotated metrics_exporter certificate on new connections', async () => {
    const ca = await createCa({ cn: 'Metrics CA' });
    const syncer = await issueCertificate(ca, { cn: 'cluster.local', notAfter: new Date(Date.now() + 30 * DAY * 1000) });
    const exporter = await issueCertificate(ca, { cn: 'metrics.cluster.local', sans: ['IP:127.0.0.1'], freshKey: true });
    const put = await apiRequest(node.port, {
      method: 'PUT',
      path: '/v1/cluster/certificates',
      auth: node.admin,
      body: {
        certificates: [
          { name: 'syncer', certificate: syncer.certificate, key: syncer.key },
          { name: 'metrics_exporter', certificate: exporter.certificate, key: exporter.key },
        ],
      },
    });
    expect(put.status, put.text).toBe(200);
    const seconds = secondsFor((await scrape(node.metricsPort)).body, 'node_cert_expiration_seconds', 'syncer');
    expect(seconds).toBeLessThanOrEqual(30 * DAY);
    expect(seconds).toBeGreaterThan(29 * DAY);
    expect((await peerCertificate(node.metricsPort)).fingerprint256).toBe(exporter.x509.fingerprint256);
  });
});
