// A node that cannot write its certificate files reports the failure instead of pretending: PUT answers
// 409 nodes_not_updated and DELETE 500 node_apply_failed (seed 001), the node keeps serving its old, matching certificate,
// the desired state stays in the store, and once the disk is writable again the node converges on its own
// and a retry answers 200. The fault: <data-dir>/certs.d, where each generation is written, becomes a
// plain file (the tests run as root, so permissions cannot make a directory unwritable).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate, type ApiResponse } from '../helpers/api-client.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';

describe('certificate files that cannot be written', () => {
  let node: TestNode;
  let ca: TestCertificate;
  const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path: p, body, auth: node.admin });
  const generations = (): string => path.join(node.dataDir, 'certs.d');

  const breakDisk = async (): Promise<void> => {
    await rm(generations(), { recursive: true, force: true });
    await writeFile(generations(), 'not a directory\n');
  };
  const repairDisk = async (): Promise<void> => {
    await rm(generations(), { force: true });
  };

  beforeAll(async () => {
    node = await startTestNode({ args: ['--apply-timeout-ms', '3000'] });
    ca = await createCa({ cn: 'Disk Test CA' });
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('answers PUT with 409 naming the node, keeps serving the old matching certificate, then converges and a retry answers 200', async () => {
    const before = await peerCertificate(node.port);
    const next = await issueCertificate(ca, { cn: 'cluster.local', sans: ['DNS:cluster.local', 'IP:127.0.0.1'], freshKey: true });
    await breakDisk();

    const started = Date.now();
    const put = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: next.certificate, key: next.key }] });
    expect(put.status, put.text).toBe(409);
    expect(put.json.error_code).toBe('nodes_not_updated');
    expect(put.json.nodes).toEqual(['1']);
    // The failure is reported, not waited out.
    expect(Date.now() - started).toBeLessThan(3000);

    // Desired state is stored; the node still presents its old certificate.
    const stored = await asAdmin('GET', '/v1/cluster/certificates');
    expect(stored.json.api_cert).toBe(next.certificate);
    expect((await peerCertificate(node.port)).fingerprint256).toBe(before.fingerprint256);
    expect(node.output()).toMatch(/could not apply certificates/);

    await repairDisk();
    const deadline = Date.now() + 15_000;
    while ((await peerCertificate(node.port)).fingerprint256 !== next.x509.fingerprint256) {
      if (Date.now() > deadline) throw new Error('the node did not converge after the disk was repaired');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cert = new X509Certificate(await readFile(path.join(node.dataDir, 'certs', 'api_cert.pem')));
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(path.join(node.dataDir, 'certs', 'api_key.pem'))))).toBe(true);
    const retry = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: next.certificate, key: next.key }] });
    expect(retry.status, retry.text).toBe(200);
  });

  it('answers DELETE with 500 when the node cannot remove the files, and converges afterwards', async () => {
    const upload = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
    expect(upload.status, upload.text).toBe(200);
    await breakDisk();
    const removed = await asAdmin('DELETE', '/v1/cluster/certificates/mtls_trusted_ca');
    expect(removed.status, removed.text).toBe(500);
    expect(removed.json.error_code).toBe('node_apply_failed');
    await repairDisk();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const files = await readdir(path.join(node.dataDir, 'certs')).catch(() => [] as string[]);
      if (files.length > 0 && !files.includes('mtls_trusted_ca_cert.pem')) break;
      if (Date.now() > deadline) throw new Error('the node did not remove mtls_trusted_ca after the disk was repaired');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
