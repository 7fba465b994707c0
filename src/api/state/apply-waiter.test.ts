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

  const member = (nodeId: string) => ({ type: 'put' as const, key: keys.nodeInfo(nodeId), value: JSON.stringify({ uid: nodeId }) });
  const live = (nodeId: string) => ({ type: 'put' as const, key: keys.node(nodeId), value: '{}' });
  const applied = (nodeId: string, revision: number) => ({
    type: 'put' as const,
    key: keys.nodeApplied(nodeId),
    value: JSON.stringify({ node_uid: nodeId, certificates_revision: revision, applied_at: '', failed_revision: null, error: null }),
  });

  it('resolves once every member has applied the revision', async () => {
    const { revision } = await store.txn({ success: [member('1'), member('2'), live('1'), live('2'), applied('1', 0), applied('2', 0)] });
    const waiting = waitForNodesToApply(store, revision, 5000);
    await store.txn({ success: [applied('1', revision)] });
    await store.txn({ success: [applied('2', revision)] });
    expect(await waiting).toEqual({ ok: true });
  });

  it('names the nodes that did not apply in time', async () => {
    const { revision } = await store.txn({ success: [member('1'), member('2'), live('1'), live('2')] });
    await store.txn({ success: [applied('1', revision)] });
    expect(await waitForNodesToApply(store, revision, 100)).toEqual({ ok: false, pending: ['2'], failed: [], down: [] });
  });

  it('counts a member whose lease lapsed as not updated, and answers at once rather than at the timeout', async () => {
    // Member 3 joined but its liveness key is gone; it even recorded the revision before it went down.
    const { revision } = await store.txn({ success: [member('1'), member('3'), live('1')] });
    await store.txn({ success: [applied('1', revision), applied('3', revision)] });
    const started = Date.now();
    expect(await waitForNodesToApply(store, revision, 10_000)).toEqual({ ok: false, pending: [], failed: [], down: ['3'] });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers as soon as the lease of a pending member lapses while it waits', async () => {
    const { revision } = await store.txn({ success: [member('1'), member('2'), live('1'), live('2'), applied('1', 0)] });
    await store.txn({ success: [applied('1', revision)] });
    const started = Date.now();
    const waiting = waitForNodesToApply(store, revision, 10_000);
    setTimeout(() => void store.txn({ success: [{ type: 'delete', key: keys.node('2') }] }), 200);
    expect(await waiting).toEqual({ ok: false, pending: [], failed: [], down: ['2'] });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('ignores a node that is not a member (removed: no node-info record), live or not', async () => {
    const { revision } = await store.txn({ success: [member('1'), live('1'), live('7')] });
    await store.txn({ success: [applied('1', revision)] });
    expect(await waitForNodesToApply(store, revision, 100)).toEqual({ ok: true });
  });

  it('still answers at the timeout when the watch cannot be created (store unreachable), with no unhandled rejection', async () => {
    const { revision } = await store.txn({ success: [member('3'), live('3')] });
    const failingWatch: ClusterStore = Object.assign(Object.create(store) as ClusterStore, {
      watchPrefix: () => Promise.reject(new StoreUnavailableError('etcd watch failed: timed out')),
    });
    expect(await waitForNodesToApply(failingWatch, revision, 100)).toEqual({ ok: false, pending: ['3'], failed: [], down: [] });
  });
});
