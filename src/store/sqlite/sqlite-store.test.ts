import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
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
});
