// OCSP stapling with real parts, in this process: a real `openssl ocsp` responder with its own CA, the OCSP
// poller and staple source on a store, and a plain Node tls.Server using the proxy certificate with
// attachOcspStapling. Checked with `openssl s_client -status` and Node's tls client (requestOCSP).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { getJson, putValue } from '../../src/store/cluster-store.js';
import { keys } from '../../src/store/keys.js';
import { systemClock } from '../../src/lib/clock.js';
import { OCSP_DEFAULTS } from '../../src/domain/ocsp-settings.js';
import type { OcspStatusRecord } from '../../src/domain/ocsp-status.js';
import { OcspPoller, type OcspLog } from '../../src/ocsp/ocsp-poller.js';
import { attachOcspStapling, createStapleSource, type StapleSource } from '../../src/ocsp/staple-source.js';
import { createOcspOperations } from '../../src/ocsp/ocsp-tester.js';
import { verifyOcspResponse } from '../../src/ocsp/ocsp-client.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import type { TestCertificate } from '../helpers/pki.js';

const log: OcspLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

let responder: OcspResponder;
let proxy: TestCertificate;
let dir: string;
let store: SqliteStore;
let poller: OcspPoller;
let source: StapleSource;
let server: tls.Server;
let port: number;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sClientStatus(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-status', '-CAfile', path.join(responder.dir, 'ca.pem')],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error !== null && !stdout.includes('OCSP')) reject(new Error(`s_client failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end();
  });
}

function nodeClientStaple(): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: responder.ca.certificate, requestOCSP: true } as tls.ConnectionOptions);
    // Node emits null when the server sent no staple.
    socket.on('OCSPResponse', (response: Buffer | null) => (staple = response ?? undefined));
    socket.once('secureConnect', () => {
      socket.end();
      resolve(staple);
    });
    socket.once('error', reject);
  });
}

async function cachedStatus(): Promise<OcspStatusRecord | undefined> {
  return getJson<OcspStatusRecord>(store, keys.ocspStatus);
}

beforeAll(async () => {
  responder = await startOcspResponder();
  proxy = await responder.issue({ cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256', freshKey: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-stapling-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  await putValue(store, keys.certificate('proxy'), JSON.stringify({ certificate: proxy.chain, key: proxy.key }));
  source = await createStapleSource({ store, clock: systemClock });
  server = tls.createServer({ cert: proxy.chain, key: proxy.key });
  attachOcspStapling(server, source);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await poller?.close();
  await source?.close();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  await store?.close();
  await responder?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('OCSP stapling on a TLS listener', () => {
  it('sends no staple while OCSP is disabled', async () => {
    const out = await sClientStatus();
    expect(out).toContain('OCSP response: no response sent');
    expect(await nodeClientStaple()).toBeUndefined();
  });

  it('staples the verified GOOD response once the poller cached it: s_client shows Cert Status: good', async () => {
    poller = new OcspPoller({ store, clock: systemClock, log });
    await poller.start();
    await putValue(store, keys.ocspSettings, JSON.stringify({ ...OCSP_DEFAULTS, ocsp_functionality: true }));
    const record = await until('a cached GOOD status', async () => ((await cachedStatus())?.response?.cert_status === 'GOOD' ? cachedStatus() : undefined));
    expect(record?.responder_url).toBe(responder.url);
    expect(poller.state).toMatchObject({ name: 'waiting', mode: 'regular' });

    const out = await sClientStatus();
    expect(out).toContain('OCSP Response Status: successful');
    expect(out).toContain('Cert Status: good');
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
  });

  it('gives Node clients with requestOCSP the same verified response', async () => {
    const staple = await nodeClientStaple();
    expect(staple).toBeDefined();
    const verified = await verifyOcspResponse(staple!, { certificate: proxy.x509, issuer: responder.ca.x509, now: new Date() });
    expect(verified.cert_status).toBe('GOOD');
    expect(staple!.toString('base64')).toBe((await cachedStatus())?.response?.der);
  });

  it('a new staple source (a restarted node) staples from the store at once', async () => {
    const fresh = await createStapleSource({ store, clock: systemClock });
    try {
      expect(fresh.getStaple(proxy.x509.serialNumber)).toBeDefined();
      expect(fresh.getStaple('0123')).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });

  it('after revocation at the responder, a test query caches REVOKED and s_client shows Cert Status: revoked', async () => {
    await responder.revoke(proxy);
    const outcome = await createOcspOperations({ store, clock: systemClock, log }).testNow();
    expect(outcome).toMatchObject({ ok: true, status: { cert_status: 'REVOKED', responder_url: responder.url } });
    expect(outcome.ok && outcome.status.revocation_time).toMatch(/GMT$/);
    await until('the staple source to follow the store', async () => {
      const staple = source.getStaple(proxy.x509.serialNumber);
      return staple !== undefined && (await verifyOcspResponse(staple, { certificate: proxy.x509, issuer: responder.ca.x509, now: new Date() })).cert_status === 'REVOKED'
        ? true
        : undefined;
    });
    const out = await sClientStatus();
    expect(out).toContain('Cert Status: revoked');
    expect(out).toContain('Revocation Reason: keyCompromise');
  });

  it('stops stapling when OCSP is disabled again', async () => {
    await putValue(store, keys.ocspSettings, JSON.stringify({ ...OCSP_DEFAULTS, ocsp_functionality: false }));
    await until('the staple to go', async () => (source.getStaple(proxy.x509.serialNumber) === undefined ? true : undefined));
    expect(await sClientStatus()).toContain('OCSP response: no response sent');
  });
});
