// Chooses the store backend from --store: the embedded SQLite file (default) or etcd (not yet built).
import path from 'node:path';
import type { NodeConfig } from '../config/node-config.js';
import type { ClusterStore } from '../store/cluster-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';

export async function openStore(config: NodeConfig): Promise<ClusterStore> {
  if (config.store === 'sqlite') return new SqliteStore(path.join(config.dataDir, 'ccs.sqlite'));
  throw new Error(`store '${config.store}' is not supported yet: only the embedded sqlite store exists`);
}
