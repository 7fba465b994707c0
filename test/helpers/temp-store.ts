// A SqliteStore in a fresh temporary directory for unit tests, and its removal.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ClusterStore } from '../../src/store/cluster-store.js';

export interface TempStore {
  store: ClusterStore;
  /** The temporary directory (the store file is in it; tests may put their own files beside it). */
  dir: string;
  destroy(): Promise<void>;
}

export async function openTempStore(prefix: string): Promise<TempStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const store = new SqliteStore(path.join(dir, 'ccs.sqlite'));
  return {
    store,
    dir,
    destroy: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
