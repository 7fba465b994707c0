import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { getJson, putValue, type ClusterStore } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { createCa, issueCertificate, type TestCertificate } from '../../test/helpers/pki.js';
import { OCSP_DEFAULTS, type OcspSettings } from '../domain/ocsp-settings.js';
import type { OcspResponseRecord, OcspStatusRecord } from '../domain/ocsp-status.js';
import { OcspQueryError } from './ocsp-client.js';
import { OcspPoller, type OcspLog } from './ocsp-poller.js';
import { FakeTime as SharedFakeTime } from '../../test/helpers/fake-time.js';
import type { OcspTarget, QueryOutcome } from './ocsp-records.js';

/** Poller time in seconds, as the OCSP settings count it. */
class FakeTime extends SharedFakeTime {
  advance(seconds: number): Promise<void> {
    return this.advanceMs(seconds * 1000);
  }
}

const silent: OcspLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

let ca: TestCertificate;
let proxy: TestCertificate;
let replacement: TestCertificate;

beforeAll(async () => {
  ca = await createCa({ curve: 'P-256' });
  proxy = await issueCertificate(ca, { curve: 'P-256', ocspUrl: 'http://127.0.0.1:1/', freshKey: true });
  replacement = await issueCertificate(ca, { curve: 'P-256', ocspUrl: 'http://127.0.0.1:1/', freshKey: true });
});

let dir: string;
let store: ClusterStore;
let time: FakeTime;
let pollers: OcspPoller[];
let calls: Array<{ at: number; serial: string }>;
let script: Array<'good' | 'revoked' | 'fail'>;

function response(status: 'GOOD' | 'REVOKED', now: Date): OcspResponseRecord {
  return {
    cert_status: status,
    produced_at: now.toISOString(),
    this_update: now.toISOString(),
    next_update: new Date(now.getTime() + 7 * 86_400_000).toISOString(),
    revocation_time: status === 'REVOKED' ? now.toISOString() : null,
    revocation_reason: null,
    der: Buffer.from('fake-der').toString('base64'),
  };
}

async function query(target: OcspTarget): Promise<QueryOutcome> {
  calls.push({ at: time.seconds(), serial: target.serial });
  const next = script.shift() ?? 'good';
  if (next === 'fail') return { ok: false, error: new OcspQueryError('http_status', 'The OCSP responder answered HTTP 500') };
  return { ok: true, response: response(next === 'good' ? 'GOOD' : 'REVOKED', time.clock.now()) };
}

async function startPoller(extra: Partial<ConstructorParameters<typeof OcspPoller>[0]> = {}): Promise<OcspPoller> {
  const poller = new OcspPoller({ store, clock: time.clock, log: silent, timer: time, query, retryDelayMs: 5000, ...extra });
  pollers.push(poller);
  time.subject = poller;
  await poller.start();
  await time.settle();
  return poller;
}

async function setSettings(settings: Partial<OcspSettings>): Promise<void> {
  await putValue(store, keys.ocspSettings, JSON.stringify({ ...OCSP_DEFAULTS, ...settings }));
  await time.settle();
}

async function record(): Promise<OcspStatusRecord | undefined> {
  return getJson<OcspStatusRecord>(store, keys.ocspStatus);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-poller-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  time = new FakeTime(Date.parse('2026-03-01T10:00:00Z'));
  pollers = [];
  calls = [];
  script = [];
  await putValue(store, keys.certificate('proxy'), JSON.stringify({ certificate: proxy.chain, key: proxy.key }));
  await putValue(store, keys.ocspSettings, JSON.stringify({ ...OCSP_DEFAULTS, ocsp_functionality: true, recovery_max_tries: 2 }));
  await putValue(
    store,
    keys.cluster,
    JSON.stringify({ name: 'c', alert_settings: { cluster_ocsp_query_failed: true, cluster_ocsp_status_revoked: true } }),
  );
});

afterEach(async () => {
  for (const poller of pollers) await poller.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('OcspPoller', () => {
  it('queries at once when nothing is cached, then every query_frequency while GOOD', async () => {
    const poller = await startPoller();
    expect(calls.map((c) => c.at)).toEqual([0]);
    expect((await record())?.response?.cert_status).toBe('GOOD');
    expect(poller.state).toMatchObject({ name: 'waiting', mode: 'regular' });
    await time.advance(3599);
    expect(calls).toHaveLength(1);
    await time.advance(1);
    await time.advance(3600);
    expect(calls.map((c) => c.at)).toEqual([0, 3600, 7200]);
  });

  it('after a failure retries every recovery_frequency up to recovery_max_tries, then drops the status, alerts once and returns to query_frequency', async () => {
    script = ['good', 'fail', 'fail', 'fail', 'fail', 'good'];
    const poller = await startPoller();
    await time.advance(3600); // first failure
    expect(poller.state).toMatchObject({ name: 'waiting', mode: 'recovery' });
    expect((await record())?.response?.cert_status).toBe('GOOD'); // still cached and stapled
    await time.advance(60); // recovery try 1
    expect((await record())?.response).not.toBeNull();
    await time.advance(60); // recovery try 2 = recovery_max_tries: dropped
    const dropped = await record();
    expect(dropped).toMatchObject({ response: null, recovery_exhausted: true, consecutive_failures: 3 });
    expect(poller.state).toMatchObject({ name: 'waiting', mode: 'regular' });
    await time.advance(3600); // back at query_frequency: fails again, no second alert
    await time.advance(3600); // succeeds
    expect(calls.map((c) => c.at)).toEqual([0, 3600, 3660, 3720, 7320, 10_920]);
    expect((await record())?.response?.cert_status).toBe('GOOD');
    const events = (await store.list(keys.eventPrefix)).kvs.map((kv) => JSON.parse(kv.value) as { type: string; state: boolean });
    expect(events.map((e) => [e.type, e.state])).toEqual([
      ['ocsp_query_failed', true],
      ['ocsp_query_failed', false],
    ]);
  });

  it('queries at once when the proxy certificate is replaced or the settings change', async () => {
    await startPoller();
    await time.advance(100);
    await putValue(store, keys.certificate('proxy'), JSON.stringify({ certificate: replacement.chain, key: replacement.key }));
    await time.settle();
    expect(calls.map((c) => c.serial)).toHaveLength(2);
    expect(calls[1]).toMatchObject({ at: 100, serial: replacement.x509.serialNumber.toLowerCase().replace(/^0+/, '') });
    await time.advance(100);
    await setSettings({ ocsp_functionality: true, query_frequency: 7200 });
    expect(calls.map((c) => c.at)).toEqual([0, 100, 200]);
    await time.advance(7199);
    expect(calls).toHaveLength(3);
    await time.advance(1);
    expect(calls).toHaveLength(4);
  });

  it('stays idle while OCSP is disabled and starts when it is enabled', async () => {
    await setSettings({ ocsp_functionality: false });
    const poller = await startPoller();
    await time.advance(10_000);
    expect(calls).toHaveLength(0);
    expect(poller.state).toMatchObject({ name: 'idle' });
    await setSettings({ ocsp_functionality: true });
    expect(calls).toHaveLength(1);
  });

  it('continues the stored schedule after a restart instead of querying again', async () => {
    const first = await startPoller();
    await time.advance(1000);
    await first.close();
    const second = await startPoller();
    expect(calls).toHaveLength(1);
    expect(second.state).toMatchObject({ name: 'waiting', mode: 'regular' });
    await time.advance(2600);
    expect(calls.map((c) => c.at)).toEqual([0, 3600]);
  });

  it('backs off instead of re-querying when its writes are fenced out (no longer the leader)', async () => {
    await putValue(store, keys.leader('cluster'), 'other-node');
    const poller = await startPoller({ fence: () => ({ key: keys.leader('cluster'), target: 'value', op: '==', value: 'this-node' }) });
    expect(calls).toHaveLength(1);
    expect(await record()).toBeUndefined();
    expect(poller.state).toMatchObject({ name: 'backoff' });
    await time.advance(59);
    expect(calls).toHaveLength(1);
  });
});
