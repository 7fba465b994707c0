import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { keys } from '../store/keys.js';
import { createLogger } from '../lib/logger.js';
import { systemClock } from '../lib/clock.js';
import { NodeRegistration, resolveNodeId } from './node-membership.js';
import { StoreUnavailableError, type ClusterStore, type Lease } from '../store/cluster-store.js';
import type { FastifyBaseLogger } from 'fastify';

// One store in a fresh directory per test, for both groups below.
let dir: string;
let store: SqliteStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-membership-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('node membership', () => {

  it('gives the single node of the embedded store uid 1 and keeps it in <data-dir>/node-id', async () => {
    expect(await resolveNodeId(store, dir, false)).toBe('1');
    expect((await readFile(path.join(dir, 'node-id'), 'utf8')).trim()).toBe('1');
    expect(await store.get(keys.counter('node_uid'))).toBeUndefined();
  });

  it('allocates distinct uids to nodes joining a shared store at the same time, and reuses them on restart', async () => {
    const dirs = await Promise.all(Array.from({ length: 5 }, (_, i) => mkdtempIn(dir, `n${i}`)));
    const uids = await Promise.all(dirs.map((d) => resolveNodeId(store, d, true)));
    expect([...uids].sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(await resolveNodeId(store, dirs[2]!, true)).toBe(uids[2]);
  });

  it('never hands out again a uid kept in a data dir, even after the store was wiped', async () => {
    const kept = await mkdtempIn(dir, 'kept');
    await writeFile(path.join(kept, 'node-id'), '7\n');
    expect(await resolveNodeId(store, kept, true)).toBe('7');
    expect(await resolveNodeId(store, await mkdtempIn(dir, 'new'), true)).toBe('8');
  });

  it('registers the node (permanent record and live key on its lease) and removes the live key on close', async () => {
    const registration = new NodeRegistration({
      store, nodeId: '3', name: 'node-3', address: '127.0.0.3', apiPort: 9443, leaseTtlSeconds: 5, clock: systemClock, log: createLogger('silent'),
    });
    await registration.start();
    expect(JSON.parse((await store.get(keys.node('3')))!.value)).toMatchObject({ uid: '3', addr: '127.0.0.3', status: 'active' });
    expect(JSON.parse((await store.get(keys.nodeInfo('3')))!.value)).toMatchObject({ uid: '3', name: 'node-3', cnm_https_port: 9443 });
    await registration.close();
    expect(await store.get(keys.node('3'))).toBeUndefined();
    expect(await store.get(keys.nodeInfo('3'))).toBeDefined();
  });
});

describe('node registration after its lease lapsed', () => {

  /** The SQLite store with leases the test can make lapse, and transactions it can make fail. */
  function lapsingStore(): { store: ClusterStore; lapse: () => void; failTxns: (n: number, error?: Error) => void } {
    let lose: ((error: Error) => void) | undefined;
    let failures = 0;
    let failure: Error = new StoreUnavailableError('etcd is down');
    const wrapped = {
      get: (key: string) => store.get(key),
      grantLease: async (ttl: number): Promise<Lease> => {
        const lease = await store.grantLease(ttl);
        return { id: lease.id, revoke: () => lease.revoke(), onLost: (listener) => (lose = listener) };
      },
      txn: async (request: Parameters<ClusterStore['txn']>[0]) => {
        if (failures > 0) {
          failures -= 1;
          throw failure;
        }
        return store.txn(request);
      },
    } as unknown as ClusterStore;
    return {
      store: wrapped,
      lapse: () => lose?.(new Error('keep-alive failed')),
      failTxns: (n, error) => {
        failures = n;
        if (error !== undefined) failure = error;
      },
    };
  }

  function recordingLog(): { log: FastifyBaseLogger; lines: string[] } {
    const lines: string[] = [];
    const log = { info: (_: object, m: string) => lines.push(`info ${m}`), warn: (_: object, m: string) => lines.push(`warn ${m}`), error: (_: object, m: string) => lines.push(`error ${m}`) };
    return { log: log as unknown as FastifyBaseLogger, lines };
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(condition()).toBe(true);
  }

  it('registers again, retrying every retryDelayMs while the store is unavailable (not logged as an error)', async () => {
    const { store: lapsing, lapse, failTxns } = lapsingStore();
    const { log, lines } = recordingLog();
    const registration = new NodeRegistration({
      store: lapsing, nodeId: '3', name: 'node-3', address: '127.0.0.3', apiPort: 9443, leaseTtlSeconds: 5, clock: systemClock, log, retryDelayMs: 20,
    });
    await registration.start();
    await store.txn({ success: [{ type: 'delete', key: keys.node('3') }] }); // the lapsed lease took the live key
    failTxns(2);
    lapse();
    expect(registration.state).toBe('registering');
    await until(() => registration.state === 'registered');
    expect(lines).toEqual(['warn node lease lapsed: registering again', 'info node registered again']);
    expect(await store.get(keys.node('3'))).toBeDefined();
    await registration.close();
    expect(registration.state).toBe('closed');
  });

  it('logs other failures and retries; a removed node stops registering and tells its owner once', async () => {
    const { store: lapsing, lapse, failTxns } = lapsingStore();
    const { log, lines } = recordingLog();
    const removed: string[] = [];
    const registration = new NodeRegistration({
      store: lapsing, nodeId: '3', name: 'node-3', address: '127.0.0.3', apiPort: 9443, leaseTtlSeconds: 5, clock: systemClock, log, retryDelayMs: 20,
      onRemoved: (error) => removed.push(error.nodeId),
    });
    await registration.start();
    failTxns(1, new Error('disk I/O error'));
    await store.txn({ success: [{ type: 'put', key: keys.removedNode('3'), value: JSON.stringify({ removed_at: 'now', removed_by: 'admin' }) }] });
    lapse();
    await until(() => registration.state === 'removed');
    expect(lines.slice(0, 2)).toEqual(['warn node lease lapsed: registering again', 'error node registration failed']);
    expect(lines[2]).toMatch(/^error node 3 was removed from the cluster/);
    expect(removed).toEqual(['3']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines).toHaveLength(3);
    await registration.close();
  });
});

async function mkdtempIn(parent: string, name: string): Promise<string> {
  const d = path.join(parent, name);
  await mkdir(d);
  return d;
}
