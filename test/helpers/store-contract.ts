// The contract every ClusterStore backend must pass (SQLite now, etcd next): revisions, transactions with
// compares, prefix listing, ordered watches that resume from a revision, leases.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WatchCompactedError, type ClusterStore, type Watch, type WatchEvent } from '../../src/store/cluster-store.js';

export function storeContract(name: string, open: () => Promise<{ store: ClusterStore; prefix: string; cleanup: () => Promise<void> }>): void {
  describe(`${name} store contract`, () => {
    let store: ClusterStore;
    let p: string;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, prefix: p, cleanup } = await open());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('puts and gets a key with revisions and version', async () => {
      const first = await store.txn({ success: [{ type: 'put', key: `${p}a`, value: '1' }] });
      const second = await store.txn({ success: [{ type: 'put', key: `${p}a`, value: '2' }] });
      expect(second.revision).toBeGreaterThan(first.revision);
      const kv = await store.get(`${p}a`);
      expect(kv).toMatchObject({ key: `${p}a`, value: '2', createRevision: first.revision, modRevision: second.revision, version: 2 });
      expect(await store.get(`${p}missing`)).toBeUndefined();
    });

    it('lists a prefix in key order and not its neighbours', async () => {
      await store.txn({
        success: [
          { type: 'put', key: `${p}x/b`, value: 'b' },
          { type: 'put', key: `${p}x/a`, value: 'a' },
          { type: 'put', key: `${p}xy`, value: 'other' },
        ],
      });
      const { kvs, revision } = await store.list(`${p}x/`);
      expect(kvs.map((kv) => kv.value)).toEqual(['a', 'b']);
      expect(revision).toBeGreaterThan(0);
    });

    it('applies a multi-key transaction only when every compare holds', async () => {
      await store.txn({ success: [{ type: 'put', key: `${p}k`, value: 'v1' }] });
      const kv = (await store.get(`${p}k`))!;
      const failed = await store.txn({
        compare: [
          { key: `${p}k`, target: 'mod', op: '==', value: kv.modRevision },
          { key: `${p}new`, target: 'version', op: '>', value: 0 },
        ],
        success: [{ type: 'put', key: `${p}k`, value: 'v2' }, { type: 'put', key: `${p}other`, value: 'x' }],
        failure: [{ type: 'put', key: `${p}failed`, value: 'yes' }],
      });
      expect(failed.succeeded).toBe(false);
      expect((await store.get(`${p}k`))!.value).toBe('v1');
      expect(await store.get(`${p}other`)).toBeUndefined();
      expect((await store.get(`${p}failed`))!.value).toBe('yes');

      const ok = await store.txn({
        compare: [
          { key: `${p}k`, target: 'value', op: '==', value: 'v1' },
          { key: `${p}new`, target: 'version', op: '==', value: 0 },
        ],
        success: [{ type: 'put', key: `${p}k`, value: 'v2' }, { type: 'delete', key: `${p}failed` }],
      });
      expect(ok.succeeded).toBe(true);
      expect((await store.get(`${p}k`))!.value).toBe('v2');
      expect(await store.get(`${p}failed`)).toBeUndefined();
    });

    it('lets exactly one of several racing creates win', async () => {
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.txn({ compare: [{ key: `${p}once`, target: 'version', op: '==', value: 0 }], success: [{ type: 'put', key: `${p}once`, value: String(i) }] }),
        ),
      );
      expect(attempts.filter((a) => a.succeeded)).toHaveLength(1);
    });

    it('deletes a prefix in one revision', async () => {
      await store.txn({ success: [{ type: 'put', key: `${p}d/1`, value: '1' }, { type: 'put', key: `${p}d/2`, value: '2' }] });
      await store.txn({ success: [{ type: 'deletePrefix', prefix: `${p}d/` }] });
      expect((await store.list(`${p}d/`)).kvs).toEqual([]);
    });

    it('watches a prefix from a revision: history first, then live changes, in order, each once', async () => {
      const start = await store.txn({ success: [{ type: 'put', key: `${p}w/0`, value: 'before' }] });
      await store.txn({ success: [{ type: 'put', key: `${p}w/1`, value: 'a' }, { type: 'put', key: `${p}w/2`, value: 'b' }] });
      await store.txn({ success: [{ type: 'put', key: `${p}elsewhere`, value: 'ignored' }] });
      const batches: WatchEvent[][] = [];
      const watch = await store.watchPrefix(`${p}w/`, start.revision, (events) => batches.push(events));
      await store.txn({ success: [{ type: 'delete', key: `${p}w/1` }] });
      await waitFor(() => batches.length >= 2);
      await watch.close();
      await store.txn({ success: [{ type: 'put', key: `${p}w/3`, value: 'after close' }] });
      await new Promise((r) => setTimeout(r, 50));
      expect(batches.map((b) => b.map((e) => `${e.type} ${e.key.slice(p.length)} ${e.value}`))).toEqual([
        ['put w/1 a', 'put w/2 b'],
        ['delete w/1 '],
      ]);
      expect(batches[1]![0]!.revision).toBeGreaterThan(batches[0]![0]!.revision);
    });

    it('forgets the earlier values of keys: a watch from before never replays them, current values stay', async () => {
      const first = await store.txn({ success: [{ type: 'put', key: `${p}h/secret`, value: 'old-secret' }, { type: 'put', key: `${p}h/gone`, value: 'gone-secret' }] });
      await store.txn({ success: [{ type: 'put', key: `${p}h/other`, value: 'other' }] });
      const replaced = await store.txn({ success: [{ type: 'put', key: `${p}h/secret`, value: 'new-secret' }, { type: 'delete', key: `${p}h/gone` }] });
      await store.forgetHistory([`${p}h/secret`, `${p}h/gone`], replaced.revision);
      expect((await store.get(`${p}h/secret`))?.value).toBe('new-secret');
      expect((await store.get(`${p}h/other`))?.value).toBe('other');
      expect(await store.get(`${p}h/gone`)).toBeUndefined();

      // From before the first write: refused or ended as compacted (etcd), or replayed without the forgotten
      // values (SQLite).
      const replayed: WatchEvent[] = [];
      const fromStart = await store.watchPrefix(`${p}h/`, first.revision - 1, (events) => replayed.push(...events)).catch((error: unknown) => error);
      if (fromStart instanceof Error) {
        expect(fromStart).toBeInstanceOf(WatchCompactedError);
      } else {
        await waitFor(() => replayed.some((e) => e.value === 'new-secret'), 1500).catch(() => undefined);
        await (fromStart as Watch).close();
      }
      expect(replayed.map((e) => e.value)).not.toContain('old-secret');
      expect(replayed.map((e) => e.value)).not.toContain('gone-secret');

      // From just before the replacement: the current value arrives (etcd drops the tombstones at the compacted
      // revision itself, so the delete may not).
      const batches: WatchEvent[][] = [];
      const fromReplacement = await store.watchPrefix(`${p}h/`, replaced.revision - 1, (events) => batches.push(events));
      await waitFor(() => batches.length >= 1);
      await fromReplacement.close();
      expect(batches[0]!.map((e) => `${e.type} ${e.key.slice(p.length)} ${e.value}`)).toContain('put h/secret new-secret');

      // Forgetting again (or at an older revision) is harmless.
      await store.forgetHistory([`${p}h/secret`], first.revision);
    });

    it('removes keys attached to a lease when it is revoked', async () => {
      const lease = await store.grantLease(5);
      await store.txn({ success: [{ type: 'put', key: `${p}live/n1`, value: 'up', lease: lease.id }] });
      expect((await store.get(`${p}live/n1`))?.lease).toBe(lease.id);
      await lease.revoke();
      expect(await store.get(`${p}live/n1`)).toBeUndefined();
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
