// Chooses the store backend from --store: the embedded SQLite file (default, one node) or etcd
// (`etcd://host:port[,host:port]`, a cluster of nodes sharing one store).
import path from 'node:path';
import type { NodeConfig } from '../config/node-config.js';
import type { ClusterStore } from '../store/cluster-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { EtcdStore, parseEtcdUrl } from '../store/etcd/etcd-store.js';

/** `onDroppedWatchResponse`: told when the etcd client's watch bug was caught (store/etcd/etcd3-watch-patch.ts). */
export async function openStore(config: NodeConfig, onDroppedWatchResponse?: (error: Error) => void): Promise<ClusterStore> {
  if (config.store === 'sqlite') return new SqliteStore(path.join(config.dataDir, 'ccs.sqlite'));
  if (isSharedStore(config)) return new EtcdStore({ hosts: parseEtcdUrl(config.store), ...(onDroppedWatchResponse === undefined ? {} : { onDroppedWatchResponse }) });
  throw new Error(`unsupported store '${config.store}': use sqlite or etcd://host:port[,host:port]`);
}

/** True when several nodes share the store (etcd), false for the embedded single-node store. */
export function isSharedStore(config: NodeConfig): boolean {
  return config.store.startsWith('etcd://');
}
