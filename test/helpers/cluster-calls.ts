// Calls the multi-node tests make against any node of a cluster on 127.0.0.1-3: the REST API as one admin, a new
// api certificate valid for every node address, and the certificate a node serves on a fresh handshake.
import type { TestNode } from './test-node.js';
import { apiRequest, peerCertificate, type ApiResponse, type Credentials } from './api-client.js';
import { selfSigned, type TestCertificate } from './pki.js';

export function clusterCalls(admin: Credentials): {
  call: (node: TestNode, method: string, urlPath: string, body?: unknown) => Promise<ApiResponse>;
  putApiCertificate: (node: TestNode, cert: TestCertificate) => Promise<ApiResponse>;
} {
  const call = (node: TestNode, method: string, urlPath: string, body?: unknown): Promise<ApiResponse> =>
    apiRequest(node.port, { method, path: urlPath, body, auth: admin }, node.address);
  const putApiCertificate = (node: TestNode, cert: TestCertificate): Promise<ApiResponse> =>
    call(node, 'PUT', '/v1/cluster/certificates', { certificates: [{ name: 'api', certificate: cert.certificate, key: cert.key }], allow_identity_change: true });
  return { call, putApiCertificate };
}

export const servedFingerprint = async (node: TestNode): Promise<string> => (await peerCertificate(node.port, node.address)).fingerprint256;

export const newApiCertificate = (): Promise<TestCertificate> =>
  selfSigned({ cn: 'cluster.local', sans: ['DNS:cluster.local', '127.0.0.1', '127.0.0.2', '127.0.0.3'], curve: 'P-256', freshKey: true });

/** Polls `condition` (a throw counts as false) every 100 ms until it holds or `timeoutMs` passes. */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A node's uid, as it reports it itself (GET /v1/bootstrap, no credentials needed). */
export async function nodeUid(node: TestNode): Promise<string> {
  return String((await apiRequest(node.port, { path: '/v1/bootstrap' }, node.address)).json.local_node_info.uid);
}

/** Teardown of a test cluster: continues any frozen node first, then stops every node and the etcd. */
export async function destroyCluster(nodes: readonly TestNode[], etcd: { destroy(): Promise<void> } | undefined): Promise<void> {
  for (const node of nodes) node.process.kill('SIGCONT');
  await Promise.all(nodes.map((node) => node.destroy()));
  await etcd?.destroy();
}
