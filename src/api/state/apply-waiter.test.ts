import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type ClusterStore } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { waitForNodesToApply } from './apply-waiter.js';

describe('waitForNodesToApply', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-waiter-'));
    store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const applied = (nodeId: string, revision: number) => ({
    type: 'put' as const,
    key: keys.nodeApplied(nodeId),
    value: JSON.stringify({ node_uid: nodeId, certificates_revision: revision, applied_at: '', failed_revision: null, error: null }),
  });

  it('resolves once every live node has applied the revision', async () => {
    const { revision } = await store.txn({ success: [{ type: 'put', key: keys.node('1'), value: '{}' }, { type: 'put', key: keys.node('2'), value: '{}' }, applied('1', 0), applied('2', 0)] });
    const waiting = waitForNodesToApply(store, revision, 5000);
    await store.txn({ success: [applied('1', revision)] });
    await store.txn({ success: [applied('2', revision)] });
    expect(await waiting).toEqual({ ok: true });
  });

  it('names the nodes that did not apply in time', async () => {
    const { revision } = await store.txn({ success: [{ type: 'put', key: keys.node('1'), value: '{}' }, { type: 'put', key: keys.node('2'), value: '{}' }] });
    await store.txn({ success: [applied('1', revision)] });
    expect(await waitForNodesToApply(store, revision, 100)).toEqual({ ok: false, pending: ['2'], failed: [] });
  });

  it('still answers at the timeout when the watch cannot be created (store unreachable), with no unhandled rejection', async () => {
    const { revision } = await store.txn({ success: [{ type: 'put', key: keys.node('3'), value: '{}' }] });
    const failingWatch: ClusterStore = Object.assign(Object.create(store) as ClusterStore, {
      watchPrefix: () => Promise.reject(new StoreUnavailableError('etcd watch failed: timed out')),
    });
    expect(await waitForNodesToApply(failingWatch, revision, 100)).toEqual({ ok: false, pending: ['3'], failed: [] });
  });
});
