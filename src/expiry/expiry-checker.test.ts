import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { getJson, listJson, putValue, type ClusterStore } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { createCa, selfSigned, type TestCertificate } from '../../test/helpers/pki.js';
import type { CertificateExpiryAlertEvent, RaisedExpiryAlerts } from '../domain/certificate-expiry.js';
import { ExpiryChecker, HOUR_MS, type ExpiryLog } from './expiry-checker.js';
import { FakeTime } from '../../test/helpers/fake-time.js';
import type { AlertRecord } from '../domain/alerts.js';

const DAY = 86_400_000;
const START = Date.parse('2026-03-01T10:00:00Z');


const silent: ExpiryLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

// Issued against the fake clock's start: notAfter is START + N days.
let proxy10: TestCertificate;
let proxy365: TestCertificate;
let internode60: TestCertificate;
let api365: TestCertificate;
let ca80: TestCertificate;
let ca100: TestCertificate;
let ca3650: TestCertificate;

beforeAll(async () => {
  const at = (days: number) => ({ notBefore: new Date(START - DAY), notAfter: new Date(START + days * DAY), curve: 'P-256' as const, freshKey: true });
  [proxy10, proxy365, internode60, api365] = await Promise.all([selfSigned(at(10)), selfSigned(at(365)), selfSigned(at(60)), selfSigned(at(365))]);
  const caAt = (days: number) => ({ notBefore: new Date(START - DAY), notAfter: new Date(START + days * DAY) });
  [ca80, ca100, ca3650] = await Promise.all([createCa(caAt(80)), createCa(caAt(100)), createCa(caAt(3650))]);
});

let dir: string;
let store: ClusterStore;
let time: FakeTime;
let checkers: ExpiryChecker[];

async function install(name: string, cert: TestCertificate): Promise<void> {
  await time.advanceMs(1000);
  await putValue(store, keys.certificate(name), JSON.stringify({ certificate: cert.chain, key: cert.key }));
  await time.settle();
}

/** The internal CA as create-cluster.ts stores it ({certificate, key} under keys.internalCa). */
async function installCa(cert: TestCertificate): Promise<void> {
  await time.advanceMs(1000);
  await putValue(store, keys.internalCa, JSON.stringify({ certificate: cert.chain, key: cert.key }));
  await time.settle();
}

async function setAlerts(cluster: { enabled?: boolean; threshold?: string }, internal: { enabled?: boolean; threshold?: string } = {}): Promise<void> {
  await time.advanceMs(1000);
  await putValue(
    store,
    keys.cluster,
    JSON.stringify({
      name: 'c',
      alert_settings: {
        cluster_certs_about_to_expire: { enabled: true, threshold: '45', ...cluster },
        node_internal_certs_about_to_expire: { enabled: true, threshold: '45', ...internal },
        cluster_ocsp_query_failed: false,
        cluster_ocsp_status_revoked: false,
      },
    }),
  );
  await time.settle();
}

async function startChecker(extra: Partial<ConstructorParameters<typeof ExpiryChecker>[0]> = {}): Promise<ExpiryChecker> {
  const checker = new ExpiryChecker({ store, clock: time.clock, log: silent, timer: time, retryDelayMs: 5000, ...extra });
  checkers.push(checker);
  time.subject = checker;
  await checker.start();
  await time.settle();
  return checker;
}

async function events(): Promise<CertificateExpiryAlertEvent[]> {
  return (await listJson<CertificateExpiryAlertEvent>(store, keys.eventPrefix)).filter((e) => e.type.endsWith('_about_to_expire'));
}

const summary = (list: CertificateExpiryAlertEvent[]): Array<[string, string, boolean]> => list.map((e) => [e.type, e.certificate_name, e.state]);

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-expiry-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  time = new FakeTime(START);
  checkers = [];
  await setAlerts({});
  await install('api', api365);
  await install('ccs_internode_encryption', internode60);
});

afterEach(async () => {
  for (const checker of checkers) await checker.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ExpiryChecker', () => {
  it('raises on start for a certificate inside the threshold, once, and keeps the raised set in the store', async () => {
    await install('proxy', proxy10);
    const checker = await startChecker();
    expect(summary(await events())).toEqual([['cluster_certs_about_to_expire', 'proxy', true]]);
    expect(Object.keys((await getJson<RaisedExpiryAlerts>(store, keys.expiryAlerts)) ?? {})).toEqual(['proxy']);
    expect(checker.state).toMatchObject({ name: 'waiting', dueAt: new Date(time.clock.now().getTime() + HOUR_MS) });
    await time.advanceMs(3 * HOUR_MS);
    expect(checker.checks).toBe(4);
    expect(await events()).toHaveLength(1);
  });

  it('writes nothing when no alert holds', async () => {
    await startChecker();
    expect(await events()).toEqual([]);
    expect(await store.get(keys.expiryAlerts)).toBeUndefined();
  });

  it('raises on the hourly check once a certificate enters the threshold with the passing of time', async () => {
    await startChecker();
    await time.advanceMs(14 * DAY);
    expect(await events()).toEqual([]);
    await time.advanceMs(DAY + HOUR_MS);
    expect(summary(await events())).toEqual([['node_internal_certs_about_to_expire', 'ccs_internode_encryption', true]]);
  });

  it('does not raise again after a restart or on another leader', async () => {
    await install('proxy', proxy10);
    const first = await startChecker();
    await first.close();
    await startChecker();
    await time.advanceMs(2 * HOUR_MS);
    expect(await events()).toHaveLength(1);
  });

  it('follows certificate changes: replacing clears, a short one again raises, deleting clears', async () => {
    await install('proxy', proxy10);
    await startChecker();
    await install('proxy', proxy365);
    expect(summary(await events())).toEqual([
      ['cluster_certs_about_to_expire', 'proxy', true],
      ['cluster_certs_about_to_expire', 'proxy', false],
    ]);
    await install('ldap_client', proxy10);
    await time.advanceMs(1000);
    await store.txn({ success: [{ type: 'delete', key: keys.certificate('ldap_client') }] });
    await time.settle();
    expect(summary(await events()).slice(2)).toEqual([
      ['cluster_certs_about_to_expire', 'ldap_client', true],
      ['cluster_certs_about_to_expire', 'ldap_client', false],
    ]);
    expect(await getJson(store, keys.expiryAlerts)).toEqual({});
  });

  it('follows the alert settings: a lower threshold clears, a higher raises, disabling stops new events', async () => {
    await install('proxy', proxy10);
    await startChecker();
    await setAlerts({ threshold: '5' });
    await setAlerts({ threshold: '30' });
    expect((await events()).map((e) => e.state)).toEqual([true, false, true]);
    await setAlerts({ enabled: false });
    await install('proxy', proxy365);
    await install('proxy', proxy10);
    await time.advanceMs(2 * HOUR_MS);
    expect(await events()).toHaveLength(3);
    await setAlerts({ enabled: true, threshold: '30' });
    expect((await events()).map((e) => e.state)).toEqual([true, false, true, true]);
  });

  it('moves the alert record (GET /v1/cluster/alerts) with the raised set and queues each event for delivery', async () => {
    const record = (): Promise<AlertRecord | undefined> => getJson<AlertRecord>(store, keys.alert('cluster', 'cluster_certs_about_to_expire'));
    await install('proxy', proxy10);
    await startChecker();
    expect(await record()).toMatchObject({ state: true, severity: 'WARNING', change_value: { state: true, certificate: 'proxy', threshold: '45' } });
    expect(Object.keys((await record())!.instances)).toEqual(['proxy']);
    await setAlerts({ threshold: '5' });
    expect(await record()).toMatchObject({ state: false, change_value: { state: false, certificate: 'proxy', threshold: '5' }, instances: {} });
    expect((await listJson<{ alert: string; event: { state: boolean } }>(store, keys.alertOutboxPrefix)).map((d) => [d.alert, d.event.state])).toEqual([
      ['cluster_certs_about_to_expire', true],
      ['cluster_certs_about_to_expire', false],
    ]);
    // Switched off while raised: the record is cleared quietly (no event, nothing to deliver).
    await setAlerts({ threshold: '30' });
    await setAlerts({ enabled: false });
    expect((await record())!.state).toBe(false);
    expect(await events()).toHaveLength(3);
  });

  it('backs off without writing when its writes are fenced out (not the leader)', async () => {
    await install('proxy', proxy10);
    const checker = await startChecker({ fence: () => ({ key: keys.leader('cluster'), target: 'value', op: '==', value: 'this-node' }) });
    expect(await events()).toEqual([]);
    expect(checker.state).toMatchObject({ name: 'backoff' });
    await putValue(store, keys.leader('cluster'), 'this-node');
    await time.advanceMs(5000);
    expect(summary(await events())).toEqual([['cluster_certs_about_to_expire', 'proxy', true]]);
  });

  it('stops its timer and watches on close', async () => {
    const checker = await startChecker();
    await checker.close();
    expect(time.pending()).toBe(0);
    await install('proxy', proxy10);
    expect(await events()).toEqual([]);
  });

  describe('the internal CA (cluster_ca_cert_about_to_expire)', () => {
    async function setCaAlert(setting: { enabled: boolean; threshold: string }): Promise<void> {
      await time.advanceMs(1000);
      const cluster = (await getJson<{ alert_settings: Record<string, unknown> }>(store, keys.cluster))!;
      await putValue(store, keys.cluster, JSON.stringify({ ...cluster, alert_settings: { ...cluster.alert_settings, cluster_ca_cert_about_to_expire: setting } }));
      await time.settle();
    }

    it('raises once for a CA inside the default 90 days, keeps it in the raised set, and names no key', async () => {
      await installCa(ca80);
      const checker = await startChecker();
      const list = await events();
      expect(summary(list)).toEqual([['cluster_ca_cert_about_to_expire', 'internal_ca', true]]);
      expect(list[0]).toMatchObject({ severity: 'WARNING', not_after: new Date(START + 80 * DAY).toISOString() });
      expect(list[0]!.description).toContain("cluster's internal CA");
      expect(JSON.stringify(list)).not.toContain('PRIVATE KEY');
      expect((await getJson<RaisedExpiryAlerts>(store, keys.expiryAlerts))?.internal_ca).toMatchObject({ alert: 'cluster_ca_cert_about_to_expire' });
      await time.advanceMs(3 * HOUR_MS);
      expect(checker.checks).toBe(4);
      expect(await events()).toHaveLength(1);
    });

    it('raises on the hourly check once the CA enters the threshold with the passing of time, not before', async () => {
      await installCa(ca100);
      await startChecker();
      await time.advanceMs(9 * DAY);
      expect(await events()).toEqual([]);
      await time.advanceMs(DAY + HOUR_MS);
      expect(summary(await events())).toEqual([['cluster_ca_cert_about_to_expire', 'internal_ca', true]]);
    });

    it('follows its own setting: a lower threshold clears, disabling stops new events, a replaced CA clears', async () => {
      await installCa(ca80);
      await startChecker();
      await setCaAlert({ enabled: true, threshold: '30' });
      expect((await events()).map((e) => [e.type, e.state])).toEqual([
        ['cluster_ca_cert_about_to_expire', true],
        ['cluster_ca_cert_about_to_expire', false],
      ]);
      await setCaAlert({ enabled: false, threshold: '90' });
      await time.advanceMs(2 * HOUR_MS);
      expect(await events()).toHaveLength(2);
      await setCaAlert({ enabled: true, threshold: '90' });
      expect(await events()).toHaveLength(3);
      await installCa(ca3650);
      expect(summary(await events()).slice(3)).toEqual([['cluster_ca_cert_about_to_expire', 'internal_ca', false]]);
      expect(await getJson(store, keys.expiryAlerts)).toEqual({});
    });

    it('is independent of the cluster certificates alert: disabling that one still raises for the CA', async () => {
      await setAlerts({ enabled: false });
      await installCa(ca80);
      await install('proxy', proxy10);
      await startChecker();
      expect(summary(await events())).toEqual([['cluster_ca_cert_about_to_expire', 'internal_ca', true]]);
    });
  });
});
