import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { keys } from '../store/keys.js';
import { createLogger } from '../lib/logger.js';
import { systemClock } from '../lib/clock.js';
import { defaultClusterDocument } from '../domain/cluster-settings.js';
import { ACL_UID_MIGRATION, migrateStore, newClusterMigrationOps } from './migrate-store.js';

const log = createLogger('silent');

describe('start-time store migrations', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-migrate-'));
    store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const bdb = (uid: number, bindings: Array<{ role_uid: number; redis_acl_uid: number }>): string => JSON.stringify({ uid, name: `db${uid}`, roles_permissions: bindings });
  const bindingsOf = async (uid: number): Promise<unknown> => (JSON.parse((await store.get(keys.bdb(uid)))!.value) as { roles_permissions: unknown }).roles_permissions;

  it('moves an older store’s ACL bindings to the reference uids once, completes the cluster document and creates the JWT secret', async () => {
    const { cm_session_timeout_minutes: _drop, ...older } = defaultClusterDocument('c.local', new Date('2026-01-01T00:00:00Z'), 9443, 8443);
    await store.txn({
      success: [
        { type: 'put', key: keys.cluster, value: JSON.stringify({ ...older, alert_settings: { ...older.alert_settings, cluster_ocsp_query_failed: false } }) },
        { type: 'put', key: keys.bdb(1), value: bdb(1, [{ role_uid: 8, redis_acl_uid: 2 }, { role_uid: 9, redis_acl_uid: 3 }]) },
        { type: 'put', key: keys.bdb(2), value: bdb(2, [{ role_uid: 8, redis_acl_uid: 1 }]) },
      ],
    });
    const first = await migrateStore(store, systemClock, log);
    expect(first.jwtSecret).toHaveLength(32);
    expect(await bindingsOf(1)).toEqual([{ role_uid: 8, redis_acl_uid: 3 }, { role_uid: 9, redis_acl_uid: 2 }]);
    expect(await bindingsOf(2)).toEqual([{ role_uid: 8, redis_acl_uid: 1 }]);
    const cluster = JSON.parse((await store.get(keys.cluster))!.value) as Record<string, unknown> & { alert_settings: Record<string, unknown> };
    expect(cluster.cm_session_timeout_minutes).toBe(15);
    expect(cluster.alert_settings.cluster_ocsp_query_failed).toBe(false);

    // A second start (or a second node) changes nothing and reads the same secret.
    const revision = (await store.list(keys.cluster)).revision;
    const second = await migrateStore(store, systemClock, log);
    expect(second.jwtSecret.equals(first.jwtSecret)).toBe(true);
    expect(await bindingsOf(1)).toEqual([{ role_uid: 8, redis_acl_uid: 3 }, { role_uid: 9, redis_acl_uid: 2 }]);
    expect((await store.list(keys.cluster)).revision).toBe(revision);
  });

  it('never rewrites the bindings of a cluster created with the reference uids', async () => {
    await store.txn({
      success: [
        { type: 'put', key: keys.cluster, value: JSON.stringify(defaultClusterDocument('c.local', new Date(), 9443, 8443)) },
        ...newClusterMigrationOps(new Date()),
        { type: 'put', key: keys.bdb(1), value: bdb(1, [{ role_uid: 8, redis_acl_uid: 2 }]) },
      ],
    });
    expect(await store.get(keys.migration(ACL_UID_MIGRATION))).toBeDefined();
    await migrateStore(store, systemClock, log);
    expect(await bindingsOf(1)).toEqual([{ role_uid: 8, redis_acl_uid: 2 }]);
  });
});
