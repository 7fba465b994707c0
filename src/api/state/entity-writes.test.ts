import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { keys } from '../../store/keys.js';
import { ApiError } from '../../lib/api-error.js';
import { createEntity, deleteEntity, retryThenConflict, updateEntity, type EntityKind } from './entity-writes.js';

interface Thing {
  uid: number;
  name: string;
  tag: string;
}

const things: EntityKind<Thing> = {
  counter: 'thing_uid',
  firstUid: 10,
  key: (uid) => `/test/things/${uid}`,
  indexKeys: (thing) => [`/test/index/thing-name/${thing.name}`, `/test/index/thing-tag/${thing.tag}`],
};

describe('entity writes', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-entities-'));
    store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const create = (name: string, options: { uid?: number; dryRun?: boolean } = {}) =>
    createEntity(store, things, {
      requestedUid: options.uid,
      build: (uid) => ({ uid, name, tag: `t-${name}` }),
      dryRun: options.dryRun,
      onConflict: retryThenConflict('Things were changed concurrently; retry'),
    });

  it('allocates uids from the counter (starting at firstUid) and writes the entity with its index keys', async () => {
    expect((await create('a')).record.uid).toBe(10);
    expect((await create('b', { uid: 50 })).record.uid).toBe(50);
    expect((await create('c')).record.uid).toBe(51);
    expect((await store.get(keys.counter('thing_uid')))?.value).toBe('51');
    expect(JSON.parse((await store.get(things.key(51)))?.value ?? '{}')).toEqual({ uid: 51, name: 'c', tag: 't-c' });
    expect((await store.get('/test/index/thing-name/c'))?.value).toBe('51');
    expect((await store.get('/test/index/thing-tag/t-c'))?.value).toBe('51');
  });

  it('writes nothing on a dry run', async () => {
    const { revision: before } = await store.list('/test/');
    const dry = await create('a', { dryRun: true });
    expect(dry).toEqual({ record: { uid: 10, name: 'a', tag: 't-a' }, revision: undefined });
    expect((await store.list('/test/')).revision).toBe(before);
  });

  it('hands a lost race to onConflict and gives up with 409 config_edit_conflict after five attempts', async () => {
    await create('taken');
    const attempts: number[] = [];
    const racing = createEntity(store, things, {
      requestedUid: undefined,
      // Every attempt collides on the name index, as a concurrent writer would make it.
      build: (uid) => ({ uid, name: 'taken', tag: `other-${uid}` }),
      onConflict: (attempt) => {
        attempts.push(attempt);
        retryThenConflict('Things were changed concurrently; retry')(attempt);
      },
    });
    await expect(racing).rejects.toMatchObject({ statusCode: 409, errorCode: 'config_edit_conflict' } satisfies Partial<ApiError>);
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(await store.get(things.key(11))).toBeUndefined();
  });

  it('moves only the index keys that changed on update, and refuses a stale revision or a taken key', async () => {
    const { record: a } = await create('a');
    await create('b');
    const tagBefore = await store.get('/test/index/thing-tag/t-a');
    const current = await store.get(things.key(a.uid));
    const renamed = { ...a, name: 'a2' };
    const result = await updateEntity(store, things, { uid: a.uid, modRevision: current?.modRevision ?? 0, previous: a, next: renamed });
    expect(result.succeeded).toBe(true);
    expect(await store.get('/test/index/thing-name/a')).toBeUndefined();
    expect((await store.get('/test/index/thing-name/a2'))?.value).toBe(String(a.uid));
    // The unchanged index key is not rewritten (etcd refuses a delete and a put of one key in a transaction).
    expect((await store.get('/test/index/thing-tag/t-a'))?.modRevision).toBe(tagBefore?.modRevision);

    const stale = await updateEntity(store, things, { uid: a.uid, modRevision: current?.modRevision ?? 0, previous: renamed, next: { ...renamed, tag: 'x' } });
    expect(stale.succeeded).toBe(false);
    const fresh = await store.get(things.key(a.uid));
    const clash = await updateEntity(store, things, { uid: a.uid, modRevision: fresh?.modRevision ?? 0, previous: renamed, next: { ...renamed, name: 'b' } });
    expect(clash.succeeded).toBe(false);
    expect(JSON.parse(fresh?.value ?? '{}')).toEqual(renamed);
  });

  it('deletes an entity with its index keys, only at the revision it was read at', async () => {
    const { record } = await create('a');
    const kv = await store.get(things.key(record.uid));
    expect((await deleteEntity(store, things, record.uid, record, (kv?.modRevision ?? 0) - 1)).succeeded).toBe(false);
    expect((await deleteEntity(store, things, record.uid, record, kv?.modRevision ?? 0)).succeeded).toBe(true);
    expect((await store.list('/test/')).kvs).toEqual([]);
  });
});
