// EtcdStore against a real etcd: the shared store contract (each test in its own key prefix), then what only
// a remote store has: watches resumed across an etcd restart, bounded failures while etcd is down or frozen,
// and leases that lapse when their holder dies.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/store/etcd/etcd-store.js';
import { StoreUnavailableError, WatchCompactedError, type WatchEvent } from '../../src/store/cluster-store.js';
import { followPrefix } from '../../src/store/follow-prefix.js';
import { storeContract } from '../helpers/store-contract.js';
import { compactEtcd, startEtcd, type TestEtcd } from '../helpers/start-etcd.js';

let etcd: TestEtcd;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.destroy();
});

const namespace = (): string => `/test-${randomBytes(6).toString('hex')}`;
const openStore = (requestTimeoutMs = 1000): EtcdStore =>
  new EtcdStore({ hosts: [etcd.url], keyPrefix: namespace(), requestTimeoutMs, maxWatchBackoffMs: 300 });

storeContract('etcd', async () => ({ store: openStore(), prefix: '/t/', cleanup: async () => undefined }));

describe('EtcdStore', () => {
  it('resumes a watch across an etcd restart: every change after the start revision arrives once, in order', async () => {
    const prefix = namespace();
    const watching = new EtcdStore({ hosts: [etcd.url], keyPrefix: prefix, requestTimeoutMs: 1000, maxWatchBackoffMs: 300 });
    const writer = new EtcdStore({ hosts: [etcd.url], keyPrefix: prefix, requestTimeoutMs: 1000 });
    try {
      const start = await writer.txn({ success: [{ type: 'put', key: '/w/0', value: 'before' }] });
      const batches: WatchEvent[][] = [];
      const watch = await watching.watchPrefix('/w/', start.revision, (events) => batches.push(events));
      for (const i of [1, 2, 3]) await writer.txn({ success: [{ type: 'put', key: `/w/${i}`, value: `v${i}` }] });
      await waitFor(() => batches.length === 3);

      await etcd.stop();
      await etcd.start();
      // Written right after the restart, most likely before the watch has reconnected: replayed from history.
      for (const i of [4, 5]) await retryWhileUnavailable(() => writer.txn({ success: [{ type: 'put', key: `/w/${i}`, value: `v${i}` }] }));
      await writer.txn({ success: [{ type: 'delete', key: '/w/1' }, { type: 'put', key: '/w/6', value: 'v6' }] });
      await waitFor(() => batches.length >= 6, 15_000);
      // Anything replayed twice would show up by now.
      await writer.txn({ success: [{ type: 'put', key: '/w/7', value: 'v7' }] });
      await waitFor(() => batches.length >= 7);
      await watch.close();

      expect(batches.map((b) => b.map((e) => `${e.type} ${e.key} ${e.value}`))).toEqual([
        ['put /w/1 v1'],
        ['put /w/2 v2'],
        ['put /w/3 v3'],
        ['put /w/4 v4'],
        ['put /w/5 v5'],
        ['delete /w/1 ', 'put /w/6 v6'],
        ['put /w/7 v7'],
      ]);
      const revisions = batches.map((b) => b[0]!.revision);
      expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
      expect(new Set(revisions).size).toBe(revisions.length);
    } finally {
      await watching.close();
      await writer.close();
    }
  });

  it('fails fast with StoreUnavailableError while etcd is down, and works again once it is back', async () => {
    const store = openStore(1000);
    try {
      await store.txn({ success: [{ type: 'put', key: '/k', value: 'v' }] });
      await etcd.stop();
      for (const call of [
        () => store.get('/k'),
        () => store.list('/'),
        () => store.txn({ success: [{ type: 'put', key: '/k', value: 'w' }] }),
        () => store.watchPrefix('/', 0, () => undefined),
        () => store.grantLease(5),
      ]) {
        const started = Date.now();
        await expect(call()).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(2500);
      }
      await etcd.start();
      const kv = await retryWhileUnavailable(() => store.get('/k'));
      expect(kv?.value).toBe('v');
    } finally {
      await etcd.start().catch(() => undefined);
      await store.close();
    }
  });

  it('answers StoreUnavailableError within the request timeout when etcd is frozen (a network cut)', async () => {
    const store = openStore(800);
    try {
      await store.get('/k');
      await etcd.freeze();
      const started = Date.now();
      await expect(store.txn({ success: [{ type: 'put', key: '/k', value: 'x' }] })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.watchPrefix('/', 0, () => undefined)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      etcd.resume();
      await store.close();
    }
  });

  it('deletes the keys of a lease whose holder was killed, once the TTL runs out', async () => {
    const prefix = namespace();
    const store = new EtcdStore({ hosts: [etcd.url], keyPrefix: prefix, requestTimeoutMs: 1000 });
    try {
      // A separate process holds the lease (keep-alives running) and is killed with SIGKILL.
      const script = `
        import { EtcdStore } from ${JSON.stringify(path.resolve('dist/src/store/etcd/etcd-store.js'))};
        const store = new EtcdStore({ hosts: [${JSON.stringify(etcd.url)}], keyPrefix: ${JSON.stringify(prefix)} });
        const lease = await store.grantLease(2);
        await store.txn({ success: [{ type: 'put', key: '/live/holder', value: 'up', lease: lease.id }] });
        process.stdout.write('ready\\n');
        setInterval(() => undefined, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`lease holder exited early (${code})`)));
      });
      // Kept alive past its TTL while the holder lives.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await store.get('/live/holder'))?.value).toBe('up');
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await waitForAsync(async () => (await store.get('/live/holder')) === undefined, 6000);
      expect(Date.now() - killedAt).toBeLessThan(5000);
    } finally {
      await store.close();
    }
  });

  it('reports a lease as lost when keep-alives cannot reach etcd for longer than the TTL', async () => {
    const store = openStore(500);
    try {
      const lease = await store.grantLease(1);
      await store.txn({ success: [{ type: 'put', key: '/live/me', value: 'up', lease: lease.id }] });
      const lost = new Promise<Error>((resolve) => lease.onLost?.(resolve));
      await etcd.freeze();
      const error = await Promise.race([lost, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('lease loss not reported')), 8000))]);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      etcd.resume();
      await waitForAsync(async () => (await store.get('/live/me').catch(() => 'unavailable')) === undefined, 8000);
    } finally {
      etcd.resume();
      await store.close();
    }
  });
});

async function retryWhileUnavailable<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function waitForAsync(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('EtcdStore watch history compacted (issue 10.6)', () => {
  it('ends a watch whose start revision was compacted with WatchCompactedError; followPrefix re-reads and resumes', async () => {
    const store = openStore();
    try {
      const first = await store.txn({ success: [{ type: 'put', key: '/c/0', value: 'v0' }] });
      for (const i of [1, 2, 3]) await store.txn({ success: [{ type: 'put', key: `/c/${i}`, value: `v${i}` }] });
      const compactedTo = await compactEtcd(etcd.url);
      expect(compactedTo).toBeGreaterThan(first.revision);

      // The raw watch: etcd creates it, then cancels it; the store says why, typed.
      const lost = new Promise<Error>((resolve, reject) => {
        store.watchPrefix('/c/', first.revision, () => reject(new Error('no event may arrive from compacted history')), resolve).catch(resolve);
      });
      const error = await lost;
      expect(error).toBeInstanceOf(WatchCompactedError);
      expect((error as WatchCompactedError).fromRevision).toBe(first.revision);

      // followPrefix: resync() re-reads (here: counts) and the watch resumes from the revision it read at.
      const resyncs: Error[] = [];
      const seen: WatchEvent[] = [];
      const follow = await followPrefix({
        store,
        prefix: '/c/',
        fromRevision: first.revision,
        onEvents: (events) => seen.push(...events),
        resync: async (reason) => {
          resyncs.push(reason);
          return (await store.list('/c/')).revision;
        },
        retryDelayMs: 100,
      });
      await waitFor(() => resyncs.length === 1 && follow.state === 'watching');
      expect(resyncs[0]).toBeInstanceOf(WatchCompactedError);
      await store.txn({ success: [{ type: 'put', key: '/c/after', value: 'live' }] });
      await waitFor(() => seen.some((e) => e.key === '/c/after'));
      expect(seen.map((e) => e.key)).toEqual(['/c/after']);
      await follow.close();
    } finally {
      await store.close();
    }
  });
});
