// Issue 15.2, ACME renewal (a certplane extension), end to end against Debian's pebble on loopback, with
// pebble-challtestsrv as its DNS (every name resolves to 127.0.0.1 unless a test says otherwise):
// - bad PUT /v1/cluster/acme input and RBAC: 400/403, nothing changed;
// - http-01: certplane answers pebble's challenge on its --acme-http-port; the issued api certificate goes through
//   the upload path and is served on new connections of the API port; next renewal at two thirds of the lifetime;
// - dns-01 through the hook command (a script that logs to a file and publishes the TXT record in challtestsrv);
// - a failing challenge and pebble killed mid-order: the error is recorded (status, acme_renewal_failed event),
//   the working certificate is untouched, and the order is retried later and succeeds once pebble is back;
// - a hand upload switches ACME off for that name; PUT /v1/cluster/acme naming it again switches it back on.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { freePort } from '../helpers/free-port.js';
import { createCa, issueCertificate } from '../helpers/pki.js';
import { startTestDns, startTestPebble, type TestDns, type TestPebble } from '../helpers/pebble.js';
import { createTestUser, type TestUser } from '../helpers/test-users.js';
import { waitUntil } from '../helpers/cluster-calls.js';

let node: TestNode;
let dns: TestDns;
let pebble: TestPebble;
let dir: string;
let hookLog: string;
let killMarker: string;
let viewer: TestUser;
let member: TestUser;

const call = (method: string, urlPath: string, body?: unknown, auth: Credentials = node.admin): Promise<ApiResponse> =>
  apiRequest(node.port, { method, path: urlPath, body, auth });
const getAcme = async (): Promise<Record<string, any>> => (await call('GET', '/v1/cluster/acme')).json;
const installed = async (name: string): Promise<X509Certificate> => new X509Certificate((await call('GET', '/v1/cluster/certificates')).json[`${name}_cert`]);

function settings(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    directory_url: pebble.directoryUrl,
    contact_email: 'ops@acme.test',
    names: ['api'],
    challenge: 'http-01',
    ca_certificate: pebble.caBundle,
    identifiers: { api: ['api.acme.test'] },
    ...overrides,
  };
}

async function putAcme(body: Record<string, unknown>): Promise<void> {
  const response = await call('PUT', '/v1/cluster/acme', body);
  expect(response.status, response.text).toBe(200);
}

async function waitForStatus(name: string, condition: (status: Record<string, any>) => boolean, what: string, timeoutMs = 120_000): Promise<Record<string, any>> {
  let last: Record<string, any> = {};
  await waitUntil(async () => {
    last = (await getAcme()).status?.[name] ?? {};
    return condition(last);
  }, timeoutMs, `${name}: ${what} (last status ${JSON.stringify(last)})`);
  return last;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-acme-'));
  hookLog = path.join(dir, 'hook.log');
  killMarker = path.join(dir, 'kill-pebble');
  const httpPort = await freePort();
  dns = await startTestDns();
  pebble = await startTestPebble({ httpPort, dnsPort: dns.dnsPort });
  // The dns-01 hook: logs every call, publishes/removes the TXT record in challtestsrv, and (when the marker file
  // holds a PID) kills pebble in the middle of the order, to test a server that disappears mid-order.
  const hook = path.join(dir, 'dns-hook.sh');
  await writeFile(
    hook,
    [
      '#!/bin/sh',
      `echo "$1 $2 $3 $CERTPLANE_ACME_IDENTIFIER" >> ${hookLog}`,
      `if [ "$1" = set ]; then curl -fsS -X POST -d "{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}" http://127.0.0.1:${dns.managementPort}/set-txt; fi`,
      `if [ "$1" = clear ]; then curl -fsS -X POST -d "{\\"host\\":\\"$2.\\"}" http://127.0.0.1:${dns.managementPort}/clear-txt; fi`,
      `if [ "$1" = set ] && [ -s ${killMarker} ]; then kill -9 "$(cat ${killMarker})"; : > ${killMarker}; fi`,
      'exit 0',
      '',
    ].join('\n'),
  );
  await chmod(hook, 0o755);
  node = await startTestNode({ args: ['--acme-http-port', String(httpPort), '--acme-dns-hook', hook, '--acme-retry-ms', '2000'] });
  [viewer, member] = await Promise.all([createTestUser(node, 'cluster_viewer'), createTestUser(node, 'db_member')]);
}, 120_000);

afterAll(async () => {
  if (process.env.ACME_TEST_LOG !== undefined && node !== undefined) await writeFile(process.env.ACME_TEST_LOG, node.output());
  await node?.destroy();
  await pebble?.destroy();
  await dns?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('PUT /v1/cluster/acme: bad input and permissions', () => {
  it('GET shows ACME off before any PUT', async () => {
    expect(await getAcme()).toMatchObject({ directory_url: '', names: [], challenge: 'http-01', account: null, status: {} });
  });

  it.each([
    ['an http:// directory', { directory_url: 'http://127.0.0.1:1/dir' }, 'invalid_acme_settings'],
    ['a directory that is not a URL', { directory_url: 'pebble' }, 'invalid_acme_settings'],
    ['a name ACME does not manage', { names: ['syncer'] }, 'invalid_schema'],
    ['a name twice', { names: ['api', 'api'] }, 'invalid_schema'],
    ['an unknown challenge', { challenge: 'tls-alpn-01' }, 'invalid_schema'],
    ['a wildcard with http-01', { identifiers: { api: ['*.acme.test'] } }, 'invalid_acme_settings'],
    ['an identifier that is no DNS name', { identifiers: { api: ['not a name'] } }, 'invalid_acme_settings'],
    ['identifiers for a name not managed', { identifiers: { api: ['api.acme.test'], cm: ['cm.acme.test'] } }, 'invalid_acme_settings'],
    ['a CA bundle that is not PEM', { ca_certificate: 'garbage' }, 'invalid_acme_settings'],
    ['a contact that is no e-mail', { contact_email: 'ops' }, 'invalid_acme_settings'],
    ['a string allow_identity_change', { allow_identity_change: 'yes' }, 'invalid_schema'],
    ['an unknown field', { dns_hook: '/bin/sh' }, 'invalid_schema'],
  ])('refuses %s with 400 and changes nothing', async (_what, overrides, code) => {
    const response = await expectNoChange(node.dataDir, () => call('PUT', '/v1/cluster/acme', settings(overrides)));
    expect(response.status, response.text).toBe(400);
    expect(response.json.error_code).toBe(code);
  });

  it('lets a viewer read but not change the settings (403, nothing changed)', async () => {
    expect((await call('GET', '/v1/cluster/acme', undefined, viewer)).status).toBe(200);
    for (const user of [viewer, member]) {
      const response = await expectNoChange(node.dataDir, () => call('PUT', '/v1/cluster/acme', settings(), user));
      expect(response.status, response.text).toBe(403);
    }
  });

  it('refuses identifiers that drop a name the current CA-issued certificate covers (409 identity_change) unless allowed', async () => {
    const ca = await createCa({ cn: 'Before ACME' });
    const cm = await issueCertificate(ca, { cn: 'cm.acme.test', sans: ['DNS:cm.acme.test', 'DNS:console.acme.test'], freshKey: true });
    expect((await call('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'cm', certificate: cm.chain, key: cm.key }] })).status).toBe(200);
    const response = await expectNoChange(node.dataDir, () => call('PUT', '/v1/cluster/acme', settings({ names: ['cm'], identifiers: { cm: ['cm.acme.test'] } })));
    expect(response.status, response.text).toBe(409);
    expect(response.json.errors[0]).toMatchObject({ name: 'cm', error_code: 'identity_change', lost_names: ['console.acme.test'] });
  });
});

describe('ACME issuance against pebble', { timeout: 300_000 }, () => {
  it('http-01: issues api, installs it on the upload path, serves it on new API connections, renews at two thirds', async () => {
    const before = await installed('api');
    await putAcme(settings());
    const status = await waitForStatus('api', (s) => s.last_success !== null, 'issued over http-01');
    expect(status).toMatchObject({ managed: true, last_error: null, failures: 0, renewal_basis: 'two_thirds', identifiers: ['api.acme.test'] });
    const served = await peerCertificate(node.port);
    expect(served.fingerprint256).not.toBe(before.fingerprint256);
    expect(served.subjectAltName).toBe('DNS:api.acme.test');
    expect(served.serialNumber.toLowerCase()).toBe(status.serial);
    expect((await installed('api')).fingerprint256).toBe(served.fingerprint256);
    const notBefore = Date.parse(served.validFrom);
    const notAfter = Date.parse(served.validTo);
    expect(Math.abs(Date.parse(status.next_renewal) - (notBefore + (2 * (notAfter - notBefore)) / 3))).toBeLessThan(2000);
    const acme = await getAcme();
    expect(acme.account).toMatchObject({ directory_url: pebble.directoryUrl });
    expect(JSON.stringify(acme)).not.toMatch(/PRIVATE KEY/);
    // The audit trail names the ACME renewal as the one who changed it.
    const logs = (await call('GET', '/v1/logs?order=desc&limit=50')).json as Array<Record<string, unknown>>;
    expect(logs).toContainEqual(expect.objectContaining({ type: 'certificate_updated', certificate_name: 'api', user_email: 'acme@certplane' }));
    expect(logs).toContainEqual(expect.objectContaining({ type: 'acme_certificate_renewed', certificate_name: 'api' }));
  });

  it('dns-01: publishes the TXT record through the hook command (a wildcard too) and installs proxy', async () => {
    await putAcme(settings({ names: ['api', 'proxy'], challenge: 'dns-01', identifiers: { api: ['api.acme.test'], proxy: ['proxy.acme.test', '*.proxy.acme.test'] } }));
    const status = await waitForStatus('proxy', (s) => s.last_success !== null, 'issued over dns-01');
    expect(status.last_error).toBeNull();
    const proxy = await installed('proxy');
    expect(proxy.subjectAltName?.split(', ').sort()).toEqual(['DNS:*.proxy.acme.test', 'DNS:proxy.acme.test']);
    const log = await readFile(hookLog, 'utf8');
    expect(log).toMatch(/^set _acme-challenge\.proxy\.acme\.test \S+ proxy\.acme\.test$/m);
    expect(log).toMatch(/^clear _acme-challenge\.proxy\.acme\.test \S+/m);
  });

  it('a failing challenge: the error is recorded and alerted, the certificate is untouched, and retried with backoff', async () => {
    await dns.addA('metrics.acme.test', '127.0.0.2'); // nothing answers http-01 there
    const before = await installed('metrics_exporter');
    await putAcme(settings({ names: ['api', 'proxy', 'metrics_exporter'], identifiers: { api: ['api.acme.test'], proxy: ['proxy.acme.test', 'x.proxy.acme.test'], metrics_exporter: ['metrics.acme.test'] }, allow_identity_change: true }));
    const failed = await waitForStatus('metrics_exporter', (s) => s.failures >= 2, 'failed twice');
    expect(failed.last_error).toMatch(/challenge for metrics\.acme\.test failed/);
    expect(failed.renewal_basis).toBe('retry');
    expect(failed.last_success).toBeNull();
    expect((await installed('metrics_exporter')).fingerprint256).toBe(before.fingerprint256);
    const logs = (await call('GET', '/v1/logs?order=desc&limit=100')).json as Array<Record<string, unknown>>;
    expect(logs).toContainEqual(expect.objectContaining({ type: 'acme_renewal_failed', severity: 'WARNING', certificate_name: 'metrics_exporter' }));
    const alert = (await call('GET', '/v1/cluster/alerts/cluster_acme_renewal_failed')).json;
    expect(alert).toMatchObject({ state: true, severity: 'WARNING', enabled: true });
    expect(alert.subjects.map((s: { subject: string }) => s.subject)).toContain('metrics_exporter');
    // Stop the failing name: PUT without it.
    await putAcme(settings({ names: ['api', 'proxy'], identifiers: { api: ['api.acme.test'], proxy: ['proxy.acme.test', 'x.proxy.acme.test'] }, allow_identity_change: true }));
  });

  it('pebble killed mid-order: the error is recorded, the working certificate untouched, and a later retry succeeds', async () => {
    const before = await installed('cm');
    await writeFile(killMarker, String(pebble.process.pid));
    await putAcme(settings({ names: ['api', 'proxy', 'cm'], challenge: 'dns-01', identifiers: { api: ['api.acme.test'], proxy: ['proxy.acme.test', 'x.proxy.acme.test'], cm: ['cm.acme.test', 'console.acme.test'] }, allow_identity_change: true }));
    // acme-client polls the challenge for about a minute before it gives up on a server that is gone.
    const failed = await waitForStatus('cm', (s) => s.failures >= 1, 'failed while pebble is gone', 200_000);
    expect(failed.last_error).not.toBeNull();
    expect(failed.last_success).toBeNull();
    expect((await installed('cm')).fingerprint256).toBe(before.fingerprint256);
    expect((await peerCertificate(node.port)).fingerprint256).toBe((await installed('api')).fingerprint256);
    await pebble.restart();
    const recovered = await waitForStatus('cm', (s) => s.last_success !== null, 'issued after pebble is back', 90_000);
    expect(recovered).toMatchObject({ failures: 0, last_error: null });
    // The failure raised cluster_acme_renewal_failed for cm; the success cleared it (metrics_exporter's stays).
    const alert = (await call('GET', '/v1/cluster/alerts/cluster_acme_renewal_failed')).json;
    expect(alert.subjects.map((s: { subject: string }) => s.subject)).not.toContain('cm');
    const logs = (await call('GET', '/v1/logs?order=desc&limit=200')).json as Array<Record<string, unknown>>;
    expect(logs).toContainEqual(expect.objectContaining({ type: 'cluster_acme_renewal_failed', state: false, subject: 'cm' }));
    expect((await installed('cm')).subjectAltName?.split(', ').sort()).toEqual(['DNS:cm.acme.test', 'DNS:console.acme.test']);
  }, 300_000);

  it('a hand upload switches ACME off for that name; naming it in PUT /v1/cluster/acme switches it back on', async () => {
    const ca = await createCa({ cn: 'Hand upload' });
    const cert = await issueCertificate(ca, { cn: 'cm.acme.test', sans: ['DNS:cm.acme.test', 'DNS:console.acme.test'], freshKey: true });
    const upload = await call('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'cm', certificate: cert.chain, key: cert.key }], allow_identity_change: true });
    expect(upload.status, upload.text).toBe(200);
    const acme = await getAcme();
    expect(acme.status.cm).toMatchObject({ managed: false, disabled_by_upload: { user_email: node.admin.email } });
    expect(acme.status.api.managed).toBe(true);
    const attempts = (await getAcme()).status.cm.last_attempt;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await getAcme()).status.cm.last_attempt).toBe(attempts);
    expect((await installed('cm')).fingerprint256).toBe(cert.x509.fingerprint256);
    await putAcme(settings({ names: ['api', 'proxy', 'cm'], challenge: 'dns-01', identifiers: { api: ['api.acme.test'], proxy: ['proxy.acme.test', 'x.proxy.acme.test'], cm: ['cm.acme.test', 'console.acme.test'] }, allow_identity_change: true }));
    await waitUntil(async () => (await installed('cm')).fingerprint256 !== cert.x509.fingerprint256, 120_000, 'ACME re-issues cm');
    expect((await getAcme()).status.cm).toMatchObject({ managed: true, disabled_by_upload: null });
  }, 180_000);
});
