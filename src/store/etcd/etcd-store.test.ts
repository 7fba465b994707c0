// Unit tests of the pure parts of EtcdStore (no etcd needed); the store itself runs against a real etcd in
// test/integration/etcd-store.test.ts.
import { describe, expect, it } from 'vitest';
import type { IEvent } from 'etcd3';
import { EtcdStore, parseEtcdUrl, toWatchBatches } from './etcd-store.js';
import { StoreUnavailableError } from '../cluster-store.js';

function event(type: 'Put' | 'Delete', key: string, value: string, revision: number): IEvent {
  return {
    type,
    kv: { key: Buffer.from(key), value: Buffer.from(value), create_revision: '1', mod_revision: String(revision), version: '1', lease: '0' },
    prev_kv: undefined as never,
  };
}

describe('parseEtcdUrl', () => {
  it('turns the --store URL into client URLs', () => {
    expect(parseEtcdUrl('etcd://127.0.0.1:2379')).toEqual(['http://127.0.0.1:2379']);
    expect(parseEtcdUrl('etcd://10.0.0.1:2379,10.0.0.2:2379')).toEqual(['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
    expect(() => parseEtcdUrl('sqlite')).toThrow();
  });
});

describe('toWatchBatches', () => {
  const strip = (key: Buffer): string => key.toString().slice('/ns'.length);

  it('groups events by revision, one batch per transaction, in order', () => {
    const batches = toWatchBatches(
      [event('Put', '/ns/a', '1', 5), event('Put', '/ns/b', '2', 5), event('Delete', '/ns/a', 'ignored', 6)],
      4,
      strip,
    );
    expect(batches).toEqual([
      [
        { type: 'put', key: '/a', value: '1', revision: 5 },
        { type: 'put', key: '/b', value: '2', revision: 5 },
      ],
      [{ type: 'delete', key: '/a', value: '', revision: 6 }],
    ]);
  });

  it('drops events already delivered (a replay after reconnect)', () => {
    const batches = toWatchBatches([event('Put', '/ns/a', '1', 5), event('Put', '/ns/a', '2', 6), event('Put', '/ns/a', '3', 7)], 6, strip);
    expect(batches.map((b) => b[0]!.revision)).toEqual([7]);
  });
});

describe('EtcdStore', () => {
  it('refuses calls after close with StoreUnavailableError', async () => {
    const store = new EtcdStore({ hosts: ['http://127.0.0.1:1'], requestTimeoutMs: 200 });
    await store.close();
    await expect(store.get('/k')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.watchPrefix('/', 0, () => undefined)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('translates a refused connection into StoreUnavailableError within the request timeout', async () => {
    const store = new EtcdStore({ hosts: ['http://127.0.0.1:1'], requestTimeoutMs: 300 });
    const started = Date.now();
    await expect(store.txn({ success: [{ type: 'put', key: '/k', value: 'v' }] })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await store.close();
  });
});
