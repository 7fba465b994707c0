import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { keys } from '../store/keys.js';
import { createLogger } from '../lib/logger.js';
import { LeaderElection } from './leader-election.js';

const log = createLogger('silent');

describe('LeaderElection', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-election-'));
    store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const candidate = (nodeId: string): LeaderElection => new LeaderElection({ store, nodeId, role: 'test', leaseTtlSeconds: 5, log, retryDelayMs: 50 });

  it('elects exactly one of several candidates and records it in the leader key', async () => {
    const candidates = ['1', '2', '3'].map(candidate);
    await Promise.all(candidates.map((c) => c.start()));
    expect(candidates.filter((c) => c.isLeader())).toHaveLength(1);
    const leader = candidates.find((c) => c.isLeader())!;
    expect((await store.get(keys.leader('test')))?.value).toBe(['1', '2', '3'][candidates.indexOf(leader)]);
    expect(candidates.filter((c) => c.state === 'follower')).toHaveLength(2);
    await Promise.all(candidates.map((c) => c.close()));
  });

  it('hands leadership to a follower when the leader resigns, and reports the changes', async () => {
    const first = candidate('1');
    await first.start();
    const second = candidate('2');
    await second.start();
    expect(first.isLeader()).toBe(true);
    expect(second.isLeader()).toBe(false);
    const changes: boolean[] = [];
    second.onChange((isLeader) => changes.push(isLeader));
    await first.close();
    await waitFor(() => second.isLeader());
    expect(changes).toEqual([true]);
    expect((await store.get(keys.leader('test')))?.value).toBe('2');
    // The fence holds only for the current leader.
    expect((await store.txn({ compare: [second.fence()], success: [] })).succeeded).toBe(true);
    expect((await store.txn({ compare: [first.fence()], success: [] })).succeeded).toBe(false);
    await second.close();
    expect(await store.get(keys.leader('test'))).toBeUndefined();
  });

  it('campaigns again when the leader key disappears (its lease lapsed)', async () => {
    const first = candidate('1');
    const second = candidate('2');
    await first.start();
    await second.start();
    // What etcd does when the leader's lease expires: the key is deleted.
    await store.txn({ success: [{ type: 'delete', key: keys.leader('test') }] });
    await waitFor(async () => (await store.get(keys.leader('test'))) !== undefined);
    await waitFor(() => first.isLeader() !== second.isLeader() && (first.isLeader() || second.isLeader()));
    await Promise.all([first.close(), second.close()]);
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
