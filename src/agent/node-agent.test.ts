import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getJson, putValue, type ClusterStore } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { putCertificateRecordOp } from '../store/certificate-records.js';
import { createLogger } from '../lib/logger.js';
import { systemClock } from '../lib/clock.js';
import type { AppliedRecord } from '../domain/node-status.js';
import { CertificateFiles } from './certificate-files.js';
import { AppliedCertificates } from './applied-certificates.js';
import { TlsContextRegistry } from './tls-context-registry.js';
import { NodeAgent, type SettingsApplication } from './node-agent.js';
import { openTempStore, type TempStore } from '../../test/helpers/temp-store.js';

/** A settings view the test drives: whenApplied(rev) waits until the test lets `rev` through, or fails it. */
class FakeSettings implements SettingsApplication {
  appliedUpTo = 0;
  failure: string | undefined;
  asked: number[] = [];
  async whenApplied(revision: number): Promise<void> {
    this.asked.push(revision);
    if (this.failure !== undefined) throw new Error(this.failure);
    if (revision > this.appliedUpTo) throw new Error(`settings at ${revision} not applied`);
  }
}

let temp: TempStore;
let store: ClusterStore;
let agent: NodeAgent;
let settings: FakeSettings;
const applied = new AppliedCertificates();

async function appliedRecord(): Promise<AppliedRecord | undefined> {
  return getJson<AppliedRecord>(store, keys.nodeApplied('1'));
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeEach(async () => {
  temp = await openTempStore('certplane-agent-');
  store = temp.store;
  await store.txn({ success: [{ type: 'put', key: keys.cluster, value: JSON.stringify({ encrypt_pkeys: false, control_cipher_suites: 'A' }) }, putCertificateRecordOp('api', { certificate: 'CERT', key: 'KEY' })] });
  settings = new FakeSettings();
  settings.appliedUpTo = Number.MAX_SAFE_INTEGER;
  agent = new NodeAgent({
    store, nodeId: '1', files: new CertificateFiles(path.join(temp.dir, 'data')), applied, tls: new TlsContextRegistry(applied),
    clock: systemClock, log: createLogger('silent'), settings, retryDelayMs: 50,
  });
  await agent.start();
});

afterEach(async () => {
  await agent.close();
  await temp.destroy();
});

describe('NodeAgent and the cluster document', () => {
  it('records a change of the cluster document as applied only once the settings view has applied it', async () => {
    expect(applied.get('api')).toEqual({ certificate: 'CERT', key: 'KEY' });
    settings.appliedUpTo = 0;
    const revision = await putValue(store, keys.cluster, JSON.stringify({ encrypt_pkeys: false, control_cipher_suites: 'B' }));
    await until(async () => (await appliedRecord())?.failed_revision === revision);
    expect((await appliedRecord())!.certificates_revision).toBeLessThan(revision);
    settings.appliedUpTo = revision;
    await until(async () => ((await appliedRecord())?.certificates_revision ?? 0) >= revision);
    expect(await appliedRecord()).toMatchObject({ failed_revision: null, error: null });
    expect(settings.asked).toContain(revision);
  });

  it('records the failure when a listener cannot apply the settings', async () => {
    settings.failure = 'a listener refused the context';
    const revision = await putValue(store, keys.cluster, JSON.stringify({ encrypt_pkeys: false, control_cipher_suites: 'C' }));
    await until(async () => (await appliedRecord())?.failed_revision === revision);
    expect((await appliedRecord())!.error).toContain('a listener refused the context');
  });
});
