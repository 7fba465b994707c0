// The renewer's schedule without an ACME server: a fake order (certificates from the test PKI) and, for RFC 9773,
// a FAKE ACME directory (a local HTTPS stub that only answers the directory and renewalInfo; pebble 2.4
// predates ACME Renewal Information).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AcmeRenewer } from './acme-renewer.js';
import type { OrderRequest, OrderResult } from './acme-order.js';
import { certificateId } from './renewal-info.js';
import { openTempStore, type TempStore } from '../../test/helpers/temp-store.js';
import { createCa, issueCertificate, type TestCertificate } from '../../test/helpers/pki.js';
import { keys } from '../store/keys.js';
import { putCertificateRecordOp } from '../store/certificate-records.js';
import { putAcmeManualMarkerOp, putAcmeSettingsOp, readAcmeStatus } from '../store/acme-records.js';
import { DEFAULT_ACME_SETTINGS, type AcmeNameStatus } from '../domain/acme.js';
import { systemClock } from '../lib/clock.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FakeDirectory {
  url: string;
  ca: string;
  asked: string[];
}

/** FAKE ACME directory: `/dir` (with or without renewalInfo) and `/ari/<certID>` answering one window. */
async function fakeDirectory(window: { start: string; end: string } | undefined): Promise<FakeDirectory> {
  const ca = await createCa({ cn: 'Fake ACME directory CA' });
  const serverCert = await issueCertificate(ca, { cn: 'localhost', sans: ['127.0.0.1'], freshKey: true });
  const asked: string[] = [];
  const server = https.createServer({ cert: serverCert.certificate, key: serverCert.key }, (request, response) => {
    const port = (server.address() as AddressInfo).port;
    if (request.url === '/dir') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ newNonce: `https://127.0.0.1:${port}/nonce`, ...(window === undefined ? {} : { renewalInfo: `https://127.0.0.1:${port}/ari` }) }));
      return;
    }
    if (request.url?.startsWith('/ari/') === true && window !== undefined) {
      asked.push(request.url.slice(5));
      response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7200' });
      response.end(JSON.stringify({ suggestedWindow: window }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/dir`, ca: ca.certificate, asked };
}

async function setup(directory: FakeDirectory, order: (request: OrderRequest) => Promise<OrderResult>, extra: { marker?: boolean } = {}) {
  const temp: TempStore = await openTempStore('certplane-acme-renewer-');
  cleanups.push(() => temp.destroy());
  const { store } = temp;
  const installed: string[] = [];
  const ops = [putAcmeSettingsOp({ ...DEFAULT_ACME_SETTINGS, directory_url: directory.url, ca_certificate: directory.ca, names: ['api'], identifiers: { api: ['api.acme.test'] } })];
  if (extra.marker === true) ops.push(putAcmeManualMarkerOp('api', { time: new Date().toISOString(), user_email: 'a@b' }));
  await store.txn({ compare: [], success: ops });
  const renewer = new AcmeRenewer({
    store,
    clock: systemClock,
    log: pino({ level: 'silent' }),
    fence: () => ({ key: keys.leader('cluster'), target: 'version', op: '==', value: 0 }),
    install: async (name, certificate, key) => {
      installed.push(name);
      await store.txn({ compare: [], success: [putCertificateRecordOp(name, { certificate, key })] });
    },
    retryBaseMs: 60_000,
    random: () => 0.5,
    order,
  });
  cleanups.push(() => renewer.close());
  await renewer.start();
  await renewer.settled();
  return { store, installed, renewer, status: () => readAcmeStatus<AcmeNameStatus>(store, 'api') };
}

async function issued(days = 90): Promise<{ leaf: TestCertificate; order: (request: OrderRequest) => Promise<OrderResult>; requests: OrderRequest[] }> {
  const ca = await createCa({ cn: 'Fake ACME CA' });
  const now = Date.now();
  const leaf = await issueCertificate(ca, { cn: 'api.acme.test', sans: ['DNS:api.acme.test'], notBefore: new Date(now - 60_000), notAfter: new Date(now - 60_000 + days * 86_400_000), freshKey: true });
  const requests: OrderRequest[] = [];
  return { leaf, requests, order: async (request) => (requests.push(request), { certificate: leaf.certificate, key: leaf.key, accountUrl: 'https://acme.test/acct/1' }) };
}

describe('AcmeRenewer schedule', () => {
  it('renews inside the renewal window of a FAKE directory that offers renewalInfo (RFC 9773), and asks again after Retry-After', async () => {
    const start = new Date(Date.now() + 10 * 86_400_000);
    const end = new Date(start.getTime() + 2 * 86_400_000);
    const directory = await fakeDirectory({ start: start.toISOString(), end: end.toISOString() });
    const { leaf, order, requests } = await issued();
    const before = Date.now();
    const { installed, status } = await setup(directory, order);
    expect(installed).toEqual(['api']);
    expect(requests[0]?.identifiers).toEqual([{ type: 'dns', value: 'api.acme.test' }]);
    const s = await status();
    expect(s.renewal_basis).toBe('renewal_info');
    expect(Date.parse(s.next_renewal!)).toBe(start.getTime() + 86_400_000); // random 0.5: the middle of the window
    expect(directory.asked).toEqual([certificateId(leaf.certificate)]);
    expect(Date.parse(s.renewal_info_next_check!) - before).toBeGreaterThanOrEqual(7_200_000 - 5000);
    expect(s).toMatchObject({ failures: 0, last_error: null, serial: leaf.x509.serialNumber.toLowerCase() });
  });

  it('renews at two thirds of the lifetime when the directory offers no renewalInfo', async () => {
    const directory = await fakeDirectory(undefined);
    const { leaf, order } = await issued(90);
    const { status } = await setup(directory, order);
    const s = await status();
    const notBefore = Date.parse(leaf.x509.validFrom);
    const notAfter = Date.parse(leaf.x509.validTo);
    expect(s.renewal_basis).toBe('two_thirds');
    expect(Date.parse(s.next_renewal!)).toBe(notBefore + (2 * (notAfter - notBefore)) / 3);
  });

  it('records a failed order with a retry time from the backoff and installs nothing', async () => {
    const directory = await fakeDirectory(undefined);
    const before = Date.now();
    const { installed, status, store } = await setup(directory, () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:14000')));
    expect(installed).toEqual([]);
    const s = await status();
    expect(s).toMatchObject({ failures: 1, renewal_basis: 'retry', last_error: 'connect ECONNREFUSED 127.0.0.1:14000', last_success: null });
    expect(Date.parse(s.next_renewal!) - before).toBeGreaterThanOrEqual(60_000);
    const { kvs } = await store.list(keys.eventPrefix);
    expect(kvs.map((kv) => JSON.parse(kv.value) as { type: string })).toContainEqual(expect.objectContaining({ type: 'acme_renewal_failed', certificate_name: 'api', failures: 1 }));
  });

  it('orders nothing for a name a hand upload switched off', async () => {
    const directory = await fakeDirectory(undefined);
    const { order, requests } = await issued();
    const { installed } = await setup(directory, order, { marker: true });
    expect(installed).toEqual([]);
    expect(requests).toEqual([]);
  });
});
