import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';
import { WatchCompactedError } from '../cluster-store.js';
import { followPrefix } from '../follow-prefix.js';
import { storeContract } from '../../../test/helpers/store-contract.js';

storeContract('sqlite', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-sqlite-'));
  return { store: new SqliteStore(path.join(dir, 'ccs.sqlite')), prefix: '/t/', cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('SqliteStore', () => {
  it('keeps data and revisions across a reopen, and drops keys of leases from the previous process', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-sqlite-'));
    const file = path.join(dir, 'ccs.sqlite');
    const first = new SqliteStore(file);
    const lease = await first.grantLease(5);
    const { revision } = await first.txn({
      success: [{ type: 'put', key: '/k', value: 'kept' }, { type: 'put', key: '/node', value: 'alive', lease: lease.id }],
    });
    // Simulate a crash: no close(), the lease is never revoked.
    const second = new SqliteStore(file);
    expect((await second.get('/k'))?.value).toBe('kept');
    expect(await second.get('/node')).toBeUndefined();
    expect((await second.list('/')).revision).toBeGreaterThan(revision);
    await second.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a watch from a revision its trimmed change log no longer holds with WatchCompactedError; followPrefix resyncs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-sqlite-'));
    const file = path.join(dir, 'ccs.sqlite');
    const store = new SqliteStore(file);
    try {
      const first = await store.txn({ success: [{ type: 'put', key: '/w/0', value: 'v0' }] });
      for (const i of [1, 2, 3]) await store.txn({ success: [{ type: 'put', key: `/w/${i}`, value: `v${i}` }] });
      // Trim the log as a long history would (EVENT_HISTORY entries are kept), through a second connection.
      const raw = new Database(file);
      raw.prepare('DELETE FROM kv_events WHERE rev <= ?').run(first.revision + 1);
      raw.close();
      const error = await store.watchPrefix('/w/', first.revision, () => undefined).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WatchCompactedError);
      let resyncs = 0;
      const seen: string[] = [];
      const follow = await followPrefix({
        store,
        prefix: '/w/',
        fromRevision: first.revision,
        onEvents: (events) => seen.push(...events.map((e) => e.key)),
        resync: async () => {
          resyncs++;
          return (await store.list('/w/')).revision;
        },
      });
      await store.txn({ success: [{ type: 'put', key: '/w/after', value: 'x' }] });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(resyncs).toBe(1);
      expect(seen).toEqual(['/w/after']);
      await follow.close();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
