import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { keys } from '../store/keys.js';
import { createLogger } from '../lib/logger.js';
import { systemClock } from '../lib/clock.js';
import { NodeRegistration, resolveNodeId } from './node-membership.js';

describe('node membership', () => {
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

async function mkdtempIn(parent: string, name: string): Promise<string> {
  const d = path.join(parent, name);
  await mkdir(d);
  return d;
}
