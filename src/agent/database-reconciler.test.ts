import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { keys } from '../store/keys.js';
import { putValue } from '../store/cluster-store.js';
import type { BdbAppliedStatus, BdbRecord } from '../domain/databases.js';
import type { DatabaseEndpointConfig } from '../domain/database-endpoint.js';
import type { UserRecord } from '../domain/users.js';
import { DatabaseReconciler, type DatabaseEndpoints } from './database-reconciler.js';
import type { RedisDatabaseSpec, RedisSupervisor } from './redis-supervisor.js';
import { RedisSecrets, sha256Hex } from './redis-secrets.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silent } as unknown as FastifyBaseLogger;

function bdb(uid: number, over: Partial<BdbRecord> = {}): BdbRecord {
  return {
    uid,
    name: `db${uid}`,
    type: 'redis',
    memory_size: 1000,
    port: 12000 + uid,
    eviction_policy: 'volatile-lru',
    tls_mode: 'disabled',
    enforce_client_authentication: 'enabled',
    authentication_ssl_client_certs: [],
    authentication_ssl_crdt_certs: [],
    client_cert_subject_validation_type: 'disabled',
    authorized_subjects: [],
    mtls_allow_outdated_certs: false,
    mtls_allow_weak_hashing: false,
    roles_permissions: [],
    default_user: true,
    authentication_redis_pass: '',
    created_time: '',
    last_changed_time: '',
    node_uid: '1',
    ...over,
  };
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not met');
}

describe('DatabaseReconciler', () => {
  let dir: string;
  let store: SqliteStore;
  let reconciler: DatabaseReconciler;
  const specs = new Map<number, RedisDatabaseSpec>();
  const endpoints = new Map<number, DatabaseEndpointConfig>();
  const removed: number[] = [];
  let failApply = false;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-reconciler-'));
    store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
    specs.clear();
    endpoints.clear();
    removed.length = 0;
    failApply = false;
    const supervisor = {
      ensure: async (spec: RedisDatabaseSpec) => {
        specs.set(spec.uid, spec);
        return { socketPath: `/sock/${spec.uid}`, pid: 100 + spec.uid };
      },
      uids: () => [...specs.keys()],
      remove: async (uid: number) => {
        specs.delete(uid);
        removed.push(uid);
      },
      removeStale: async () => [],
    } as unknown as RedisSupervisor;
    const proxy: DatabaseEndpoints = {
      apply: async (config) => {
        if (failApply) throw new Error('EADDRINUSE');
        endpoints.set(config.uid, config);
      },
      remove: async (uid) => {
        endpoints.delete(uid);
      },
      uids: () => [...endpoints.keys()],
    };
    reconciler = new DatabaseReconciler({
      store,
      nodeId: '1',
      address: '127.0.0.1',
      supervisor,
      endpoints: proxy,
      secrets: await RedisSecrets.open(dir),
      clock: { now: () => new Date('2026-01-01T00:00:00Z') },
      log: silent,
      retryDelayMs: 20,
    });
  });

  afterEach(async () => {
    await reconciler.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the databases placed on this node with their users, reports them active, and removes deleted ones', async () => {
    const writer: UserRecord = {
      uid: 5, name: 'writer', email: '', role: 'none', role_uids: [8], auth_method: 'certificate',
      certificate_subject_line: 'CN=writer', email_alerts: true, password_issue_date: '', status: 'active',
    };
    await putValue(store, keys.user(5), JSON.stringify(writer));
    await putValue(store, keys.bdb(1), JSON.stringify(bdb(1, { tls_mode: 'enabled', roles_permissions: [{ role_uid: 8, redis_acl_uid: 1 }], authentication_ssl_client_certs: [] })));
    await putValue(store, keys.bdb(2), JSON.stringify(bdb(2, { node_uid: '2' })));
    await reconciler.start();

    expect([...specs.keys()]).toEqual([1]);
    const spec = specs.get(1) as RedisDatabaseSpec;
    expect(spec.users).toEqual([{ username: 'writer', passwordSha256: expect.stringMatching(/^[0-9a-f]{64}$/), rules: ['+@all ~* &*'] }]);
    // The default user holds the node's secret too, never a client's password and never nopass.
    expect(spec.defaultUser.passwordSha256).toMatch(/^[0-9a-f]{64}$/);
    const endpoint = endpoints.get(1) as DatabaseEndpointConfig;
    expect(endpoint).toMatchObject({ port: 12001, backendSocketPath: '/sock/1', tls: { minVersion: 'TLSv1.2' } });
    expect(endpoint.tls?.clientAuth).toMatchObject({ ca: [], validationType: 'disabled' });
    const [certUser] = endpoint.certificateUsers;
    expect(certUser?.subjectLine).toBe('CN=writer');
    expect(sha256Hex(certUser?.password ?? '')).toBe(spec.users[0]?.passwordSha256);
    const status = JSON.parse((await store.get(keys.bdbStatus(1)))?.value ?? '{}') as BdbAppliedStatus;
    expect(status).toMatchObject({ status: 'active', redis_pid: 101, applied_mod_revision: (await store.get(keys.bdb(1)))?.modRevision });

    await store.txn({ success: [{ type: 'delete', key: keys.bdb(1) }] });
    await until(() => (removed.includes(1) ? true : undefined));
    expect(endpoints.has(1)).toBe(false);
    await until(async () => ((await store.get(keys.bdbStatus(1))) === undefined ? true : undefined));
  });

  it('reports creation-failed while an endpoint cannot open, and retries until it does', async () => {
    failApply = true;
    await putValue(store, keys.bdb(3), JSON.stringify(bdb(3)));
    await reconciler.start();
    const failed = JSON.parse((await store.get(keys.bdbStatus(3)))?.value ?? '{}') as BdbAppliedStatus;
    expect(failed).toMatchObject({ status: 'creation-failed', error: 'EADDRINUSE' });
    failApply = false;
    await until(async () => {
      const status = JSON.parse((await store.get(keys.bdbStatus(3)))?.value ?? '{}') as BdbAppliedStatus;
      return status.status === 'active' ? status : undefined;
    });
    expect(endpoints.has(3)).toBe(true);
  });
});
