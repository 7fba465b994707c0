import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { putValue, type ClusterStore } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { createLogger } from '../lib/logger.js';
import { ClusterSettingsWatcher } from './cluster-settings-watcher.js';

let dir: string;
let store: ClusterStore;
let watcher: ClusterSettingsWatcher;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-settings-'));
  store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  await putValue(store, keys.cluster, JSON.stringify({ control_cipher_suites: 'A' }));
  watcher = new ClusterSettingsWatcher(store, createLogger('silent'));
  await watcher.start();
});

afterEach(async () => {
  await watcher.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ClusterSettingsWatcher.whenApplied', () => {
  it('resolves once every listener took the document, rejects while one refuses it, and rejects at the bound', async () => {
    let refuse = true;
    const seen: string[] = [];
    watcher.onChange((settings) => {
      if (refuse) throw new Error('bad context');
      seen.push(String((settings as unknown as { control_cipher_suites: string }).control_cipher_suites));
    });
    const refused = await putValue(store, keys.cluster, JSON.stringify({ control_cipher_suites: 'B' }));
    await expect(watcher.whenApplied(refused)).rejects.toThrow('bad context');
    refuse = false;
    const accepted = await putValue(store, keys.cluster, JSON.stringify({ control_cipher_suites: 'C' }));
    await watcher.whenApplied(accepted);
    expect(seen).toEqual(['C']);
    await expect(watcher.whenApplied(accepted + 1000, 50)).rejects.toThrow('did not reach this node');
  });
});
