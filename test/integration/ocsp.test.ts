// OCSP against the built server and a real `openssl ocsp` responder with its own CA, index and delegated
// responder certificate: the configuration API (defaults, ranges, read-only responder_url, no_responder_url),
// the poller caching the verified status in the store, stapling on a TLS database endpoint (openssl s_client
// -status, Node's requestOCSP), revocation, alerts in GET /v1/logs, a restart that staples at once, and every
// fault of issue 4 (responder down, slow, HTTP 500, garbage, wrong key, another certificate, stale) handled as a
// failed query that is never stapled and shows in GET /v1/ocsp/status and the log. The faults the real
// responder cannot produce come from a FAKE responder (test/helpers/fake-ocsp-responder.ts).
import { execFile } from 'node:child_process';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import { startFakeOcspResponder, type FakeMode, type FakeOcspResponder } from '../helpers/fake-ocsp-responder.js';
import { freeDbPort, waitFor, waitForActive } from '../helpers/redis-cli.js';

let node: TestNode;
let responder: OcspResponder;
let wrongSigner: OcspResponder;
let fake: FakeOcspResponder;
let proxy: TestCertificate;
let faultCert: TestCertificate;
let wrongSignerCert: TestCertificate;
let noUrlCert: TestCertificate;
let dbPort: number;

const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path, body, auth: node.admin });

async function installProxy(cert: TestCertificate): Promise<void> {
  const response = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'proxy', certificate: cert.chain, key: cert.key }], allow_identity_change: true });
  expect(response.status, response.text).toBe(200);
}

async function status(): Promise<Record<string, unknown>> {
  const response = await api('GET', '/v1/ocsp/status');
  expect(response.status).toBe(200);
  return response.json;
}

/** `openssl s_client -status` against the TLS database endpoint. */
function sClient(): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${dbPort}`, '-servername', 'localhost', '-status'], { timeout: 10_000 }, (_error, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
    child.stdin?.end();
  });
}

/** The staple Node's tls client receives with requestOCSP (undefined when none was sent). */
function nodeClientStaple(): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port: dbPort, servername: 'localhost', rejectUnauthorized: false, requestOCSP: true } as tls.ConnectionOptions);
    socket.on('OCSPResponse', (response: Buffer | null) => (staple = response ?? undefined));
    socket.once('secureConnect', () => {
      socket.end();
      resolve(staple);
    });
    socket.once('error', reject);
  });
}

async function logEvents(type: string): Promise<Array<Record<string, unknown>>> {
  const response = await api('GET', '/v1/logs');
  expect(response.status).toBe(200);
  return (response.json as Array<Record<string, unknown>>).filter((e) => e.type === type);
}

beforeAll(async () => {
  responder = await startOcspResponder();
  const otherCa = await createCa({ cn: 'certplane test OCSP CA', curve: 'P-256' });
  const foreignSigner = await issueCertificate(otherCa, { cn: 'certplane test OCSP responder', curve: 'P-256', eku: ['ocspSigning'], freshKey: true });
  // A second real responder for the same CA and index that signs with a key the CA never certified.
  wrongSigner = await startOcspResponder({ ca: responder.ca, signer: foreignSigner, indexOf: responder });
  fake = await startFakeOcspResponder({ certificate: () => faultCert, issuer: responder.ca, signer: responder.signer, mode: { kind: 'http500' } });
  const leaf = { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256' as const, freshKey: true };
  proxy = await responder.issue(leaf);
  faultCert = await issueCertificate(responder.ca, { ...leaf, ocspUrl: fake.url });
  wrongSignerCert = await issueCertificate(responder.ca, { ...leaf, ocspUrl: wrongSigner.url });
  await responder.addValid(wrongSignerCert);
  await wrongSigner.restart();
  noUrlCert = await issueCertificate(responder.ca, leaf);
  node = await startTestNode();
  dbPort = await freeDbPort();
});

afterAll(async () => {
  await node?.destroy();
  await fake?.close();
  await wrongSigner?.close();
  await responder?.close();
});

describe('OCSP configuration API', () => {
  it('returns the RS defaults, an empty responder_url for the self-signed proxy certificate, and UNKNOWN status', async () => {
    const response = await api('GET', '/v1/ocsp');
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      ocsp_functionality: false,
      query_frequency: 3600,
      recovery_frequency: 60,
      recovery_max_tries: 5,
      responder_url: '',
      response_timeout: 1,
    });
    expect(await status()).toMatchObject({ cert_status: 'UNKNOWN', responder_url: '' });
  });

  it('refuses to enable OCSP or test it without a responder URL: 400 no_responder_url, nothing changes', async () => {
    const enable = await expectNoChange(node.dataDir, () => api('PUT', '/v1/ocsp', { ocsp_functionality: true }));
    expect(enable.status).toBe(400);
    expect(enable.json).toMatchObject({ error_code: 'no_responder_url' });
    expect(enable.json.message).toBe(enable.json.description);
    const test = await expectNoChange(node.dataDir, () => api('POST', '/v1/ocsp/test'));
    expect(test.status).toBe(400);
    expect(test.json.error_code).toBe('no_responder_url');
  });

  it.each([
    [{ query_frequency: 59 }],
    [{ query_frequency: 86_401 }],
    [{ recovery_frequency: 59 }],
    [{ recovery_frequency: 86_401 }],
    [{ recovery_max_tries: 0 }],
    [{ recovery_max_tries: 101 }],
    [{ response_timeout: 0 }],
    [{ response_timeout: 61 }],
    [{ query_frequency: '3600' }],
    [{ query_frequency: 3600.5 }],
    [{ ocsp_functionality: 'yes' }],
    [{ enabled: true }],
    [{ responder_url: 'http://attacker.example/' }],
  ])('rejects %j with 400 invalid_schema and changes nothing', async (body) => {
    const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/ocsp', body));
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('invalid_schema');
  });

  it('derives responder_url from the proxy certificate and accepts it back unchanged (GET-edit-PUT)', async () => {
    await installProxy(proxy);
    const config = await api('GET', '/v1/ocsp');
    expect(config.json.responder_url).toBe(responder.url);
    const roundTrip = await api('PUT', '/v1/ocsp', { ...config.json, query_frequency: 3800, recovery_frequency: 80 });
    expect(roundTrip.status, roundTrip.text).toBe(200);
    expect(roundTrip.json).toEqual({ ...config.json, query_frequency: 3800, recovery_frequency: 80 });
    const changed = await expectNoChange(node.dataDir, () => api('PUT', '/v1/ocsp', { responder_url: `${responder.url}other` }));
    expect(changed.status).toBe(400);
    expect(changed.json.error_code).toBe('invalid_schema');
  });

  it('answers 403 to a user without the OCSP permissions', async () => {
    const created = await api('POST', '/v1/users', { name: 'viewer', email: 'viewer@cluster.local', password: 'Viewer-Password-1', role: 'cluster_viewer' });
    expect(created.status, created.text).toBe(200);
    const viewer = { email: 'viewer@cluster.local', password: 'Viewer-Password-1' };
    for (const [method, path] of [['GET', '/v1/ocsp'], ['PUT', '/v1/ocsp'], ['GET', '/v1/ocsp/status'], ['POST', '/v1/ocsp/test']] as const) {
      const response = await apiRequest(node.port, { method, path, auth: viewer, ...(method === 'PUT' ? { body: {} } : {}) });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
  });
});

describe('OCSP polling and stapling', () => {
  it('queries at once when enabled and caches the verified GOOD status', async () => {
    const enabled = await api('PUT', '/v1/ocsp', { ocsp_functionality: true });
    expect(enabled.status, enabled.text).toBe(200);
    expect(enabled.json.ocsp_functionality).toBe(true);
    const cached = await waitFor('a cached GOOD status', async () => {
      const s = await status();
      return s.cert_status === 'GOOD' ? s : undefined;
    });
    expect(cached).toMatchObject({ responder_url: responder.url, consecutive_failures: 0 });
    for (const field of ['produced_at', 'this_update', 'next_update', 'last_query_time']) {
      expect(cached[field], field).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    }
    expect(cached.revocation_time).toBeUndefined();
  });

  it('staples it on a TLS database endpoint: s_client shows Cert Status: good, Node gets the staple', async () => {
    const created = await api('POST', '/v1/bdbs', { name: 'stapled', memory_size: 50_000_000, port: dbPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled' });
    expect(created.status, created.text).toBe(200);
    await waitForActive(node.port, node.admin, created.json.uid);
    const out = await sClient();
    expect(out).toContain('OCSP Response Status: successful');
    expect(out).toContain('Cert Status: good');
    expect(await nodeClientStaple()).toBeInstanceOf(Buffer);
  });

  it('keeps the cached status through failed recovery queries, then drops it (UNKNOWN, no staple) and raises ocsp_query_failed', async () => {
    expect((await api('PUT', '/v1/cluster', { alert_settings: { cluster_ocsp_query_failed: true, cluster_ocsp_status_revoked: true } })).status).toBe(200);
    await responder.stop();
    const test = await api('POST', '/v1/ocsp/test');
    expect(test.status).toBe(500);
    expect(test.json).toMatchObject({ error_code: 'invalid_ocsp_response' });
    expect(test.json.description).toContain('cannot be reached');
    // First failure: the verified GOOD response stays cached and stapled while recovery runs.
    expect(await status()).toMatchObject({ cert_status: 'GOOD', consecutive_failures: 1, last_query_error: expect.stringContaining('cannot be reached') });
    expect(await sClient()).toContain('Cert Status: good');
    // recovery_max_tries = 1: the settings change queries at once, fails again, and the status is dropped.
    expect((await api('PUT', '/v1/ocsp', { recovery_max_tries: 1 })).status).toBe(200);
    const dropped = await waitFor('the dropped status', async () => {
      const s = await status();
      return s.cert_status === 'UNKNOWN' ? s : undefined;
    });
    expect(dropped).toMatchObject({ consecutive_failures: 2, responder_url: responder.url });
    // The data plane is another process: the dropped staple reaches it by message, just after the store write.
    await waitFor('the staple dropped in the data plane', async () => (await sClient()).includes('OCSP response: no response sent'), 5_000);
    expect(await nodeClientStaple()).toBeUndefined();
    const alerts = await logEvents('ocsp_query_failed');
    expect(alerts).toMatchObject([{ state: true, severity: 'ERROR', responder_url: responder.url }]);
    await waitFor('the failure in the log', async () => node.output().includes('OCSP query failed') || undefined);
  });

  it('recovers when the responder is back: GOOD again, stapled, and the alert is cleared', async () => {
    await responder.start();
    const test = await api('POST', '/v1/ocsp/test');
    expect(test.status, test.text).toBe(200);
    expect(test.json).toMatchObject({ cert_status: 'GOOD', responder_url: responder.url });
    expect(await status()).toMatchObject({ cert_status: 'GOOD', consecutive_failures: 0 });
    await waitFor('the staple back', async () => ((await sClient()).includes('Cert Status: good') ? true : undefined));
    expect((await logEvents('ocsp_query_failed')).map((e) => e.state)).toEqual([true, false]);
  });

  it('after revocation at the responder, POST /v1/ocsp/test caches REVOKED, s_client shows revoked, and ocsp_status_revoked is raised', async () => {
    await responder.revoke(proxy);
    const test = await api('POST', '/v1/ocsp/test');
    expect(test.status, test.text).toBe(200);
    expect(test.json).toMatchObject({ cert_status: 'REVOKED', responder_url: responder.url });
    expect(test.json.revocation_time).toMatch(/GMT$/);
    expect(await status()).toMatchObject({ cert_status: 'REVOKED' });
    await waitFor('the revoked staple', async () => ((await sClient()).includes('Cert Status: revoked') ? true : undefined));
    expect(await logEvents('ocsp_status_revoked')).toMatchObject([{ state: true, severity: 'ERROR' }]);
  });

  it('staples the cached response at once after a restart, without querying again', async () => {
    await node.stop();
    await responder.stop();
    node = await startTestNode({ dataDir: node.dataDir, port: node.port, admin: node.admin });
    expect(await status()).toMatchObject({ cert_status: 'REVOKED', consecutive_failures: 0 });
    await waitFor('the staple after restart', async () => ((await sClient()).includes('Cert Status: revoked') ? true : undefined));
    await responder.start();
  });
});

describe('OCSP faults: a failed query, never stapled, visible in the status and the log', () => {
  /** Installs a proxy certificate and waits for the poller's immediate (failing) query of it. */
  async function installAndWaitForPoll(cert: TestCertificate, url: string): Promise<Record<string, unknown>> {
    await installProxy(cert);
    return waitFor('the poller to query the new certificate', async () => {
      const s = await status();
      return s.responder_url === url && (s.consecutive_failures as number) >= 1 ? s : undefined;
    });
  }

  async function expectFailedAndNotStapled(reason: string): Promise<void> {
    const test = await api('POST', '/v1/ocsp/test');
    expect(test.status).toBe(500);
    expect(test.json).toMatchObject({ error_code: 'invalid_ocsp_response', description: expect.stringContaining(reason) });
    expect(await status()).toMatchObject({ cert_status: 'UNKNOWN', last_query_error: expect.stringContaining(reason) });
    await waitFor('the staple dropped in the data plane', async () => (await sClient()).includes('OCSP response: no response sent'), 5_000);
    expect(await nodeClientStaple()).toBeUndefined();
    // The log line travels through a pipe: it may arrive just after the HTTP answer.
    await waitFor(`'${reason}' in the log`, async () => node.output().includes(reason) || undefined);
  }

  it('the poller queries a new proxy certificate at once; a failure shows in the status', async () => {
    fake.mode = { kind: 'http500' };
    const polled = await installAndWaitForPoll(faultCert, fake.url);
    expect(polled).toMatchObject({ cert_status: 'UNKNOWN', last_query_error: expect.stringContaining('answered HTTP 500') });
  });

  it.each([
    ['answering HTTP 500', { kind: 'http500' }, 'answered HTTP 500'],
    ['answering garbage', { kind: 'garbage' }, 'did not send a DER-encoded OCSP response'],
    ['answering slower than response_timeout', { kind: 'slow', delayMs: 2500 }, 'did not answer within 1000 ms'],
    ['signing with the wrong key', { kind: 'wrong_key' }, 'signature does not verify'],
    ['answering about another certificate', { kind: 'other_certificate' }, 'not about the proxy certificate'],
    ['answering with a stale response (nextUpdate passed)', { kind: 'stale' }, 'is stale'],
  ] as Array<[string, FakeMode, string]>)('FAKE responder %s', async (_title, mode, reason) => {
    fake.mode = mode;
    await expectFailedAndNotStapled(reason);
  });

  it('real responder signing with a responder certificate the CA never issued', async () => {
    const polled = await installAndWaitForPoll(wrongSignerCert, wrongSigner.url);
    expect(polled.last_query_error).toContain('signer is not trusted');
    await expectFailedAndNotStapled('signer is not trusted');
  });

  it('a proxy certificate without an OCSP URL keeps OCSP enabled but queries nothing and staples nothing', async () => {
    const polled = await installAndWaitForPoll(noUrlCert, '');
    expect(polled.last_query_error).toContain('no OCSP responder URL');
    expect((await api('GET', '/v1/ocsp')).json).toMatchObject({ ocsp_functionality: true, responder_url: '' });
    const test = await expectNoChange(node.dataDir, () => api('POST', '/v1/ocsp/test'));
    expect(test.status).toBe(400);
    expect(test.json.error_code).toBe('no_responder_url');
    expect(await sClient()).toContain('OCSP response: no response sent');
  });
});
