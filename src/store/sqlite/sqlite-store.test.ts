import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
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

describe('SqliteStore.forgetHistory', () => {
  /** Every byte SQLite keeps on disk for this store: the database file and its write-ahead log. */
  async function fileBytes(file: string): Promise<Buffer> {
    const parts = await Promise.all([file, `${file}-wal`, `${file}-journal`].map((f) => readFile(f).catch(() => Buffer.alloc(0))));
    return Buffer.concat(parts);
  }

  it('leaves no byte of a replaced value in the database file or its WAL (and without it, the bytes are there)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-sqlite-'));
    const file = path.join(dir, 'ccs.sqlite');
    const store = new SqliteStore(file);
    // Big enough for overflow pages, like a PEM key in a certificate record.
    const oldSecret = randomBytes(2400).toString('base64');
    const newSecret = randomBytes(2400).toString('base64');
    const other = randomBytes(2400).toString('base64');
    const probe = oldSecret.slice(100, 164);
    try {
      await store.txn({ success: [{ type: 'put', key: '/certs/api', value: JSON.stringify({ key: oldSecret }) }] });
      await store.txn({ success: [{ type: 'put', key: '/certs/other', value: other }] });
      const replaced = await store.txn({ success: [{ type: 'put', key: '/certs/api', value: JSON.stringify({ key: newSecret }) }] });
      expect((await fileBytes(file)).includes(probe)).toBe(true);

      await store.forgetHistory(['/certs/api'], replaced.revision);
      const bytes = await fileBytes(file);
      expect(bytes.includes(probe)).toBe(false);
      expect(bytes.includes(newSecret.slice(100, 164))).toBe(true);
      expect((await store.get('/certs/other'))?.value).toBe(other);
      // Still a working store: writes after the truncated WAL are kept across a reopen.
      await store.txn({ success: [{ type: 'put', key: '/after', value: 'x' }] });
    } finally {
      await store.close();
    }
    const reopened = new SqliteStore(file);
    expect((await reopened.get('/after'))?.value).toBe('x');
    expect(JSON.parse((await reopened.get('/certs/api'))!.value)).toEqual({ key: newSecret });
    await reopened.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('scrubs a database written before secure_delete once, when it is opened: change log and free pages', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-sqlite-'));
    const file = path.join(dir, 'ccs.sqlite');
    const oldSecret = randomBytes(2400).toString('base64');
    const probe = oldSecret.slice(100, 164);
    const store = new SqliteStore(file);
    await store.txn({ success: [{ type: 'put', key: '/certs/api', value: oldSecret }] });
    await store.txn({ success: [{ type: 'put', key: '/certs/api', value: 'replaced' }] });
    await store.close();
    // As an older version left it: no scrub marker, the replaced value still in the change log.
    const raw = new Database(file);
    raw.prepare("DELETE FROM meta WHERE name = 'history_scrubbed'").run();
    raw.close();
    expect((await fileBytes(file)).includes(probe)).toBe(true);

    const reopened = new SqliteStore(file);
    expect((await fileBytes(file)).includes(probe)).toBe(false);
    expect((await reopened.get('/certs/api'))?.value).toBe('replaced');
    const { revision } = await reopened.txn({ success: [{ type: 'put', key: '/after', value: 'x' }] });
    expect(revision).toBeGreaterThan(2);
    await reopened.close();
    await rm(dir, { recursive: true, force: true });
  });
});
