// Snapshots a node's state — every key, value and mod revision in its store and the store revision, read through
// the store's own interface (ClusterStore.list over all keys, so the same on SQLite and etcd), and the content hash
// and mode of every file under the data dir — so a test can prove a rejected request changed nothing at all.
import { createHash } from 'node:crypto';
import { readdir, readFile, lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { ClusterStore } from '../../src/store/cluster-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { EtcdStore, parseEtcdUrl } from '../../src/store/etcd/etcd-store.js';

export interface NodeSnapshot {
  store: Array<{ key: string; value: string; mod_rev: number }>;
  revision: number;
  files: Record<string, string>;
}

/**
 * A node's state: its data dir, and its store as `certplane start --store` named it (a TestNode has both).
 * A bare data dir means the embedded SQLite store in it.
 */
export type NodeState = string | { dataDir: string; store?: string };

/** A client of the node's store: a read-only SqliteStore on its file, or an EtcdStore on the same etcd. */
function openNodeStore(dataDir: string, store: string): ClusterStore {
  if (store.startsWith('etcd://')) return new EtcdStore({ hosts: parseEtcdUrl(store) });
  return new SqliteStore(path.join(dataDir, 'ccs.sqlite'), { readOnly: true });
}

export async function snapshotNode(node: NodeState): Promise<NodeSnapshot> {
  const dataDir = typeof node === 'string' ? node : node.dataDir;
  const store = openNodeStore(dataDir, typeof node === 'string' ? 'sqlite' : (node.store ?? 'sqlite'));
  try {
    const { kvs, revision } = await store.list('');
    return { store: kvs.map((kv) => ({ key: kv.key, value: kv.value, mod_rev: kv.modRevision })), revision, files: await hashTree(dataDir) };
  } finally {
    await store.close();
  }
}

async function hashTree(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir)) {
      if (entry.startsWith('ccs.sqlite')) continue; // compared logically above
      const full = path.join(dir, entry);
      const info = await lstat(full);
      const rel = path.relative(root, full);
      if (info.isSymbolicLink()) result[rel] = `link -> ${await readlink(full)}`;
      else if (info.isDirectory()) await walk(full);
      else if (info.isSocket()) result[rel] = 'socket'; // redis-server's Unix socket: present, no content
      else result[rel] = `${(info.mode & 0o777).toString(8)} ${createHash('sha256').update(await readFile(full)).digest('hex')}`;
    }
  };
  await walk(root);
  return result;
}

export interface NoChangeOptions {
  /**
   * Allow new /v1/logs events (and nothing else): for refused logins, which are recorded (rate-limited) as
   * WARNING events by design. The store revision then moves with them; every other key must stay as it was.
   */
  exceptEvents?: boolean;
  /** Store keys that may change (e.g. a login-failure counter a refused password check moves by design). */
  exceptKeys?: (key: string) => boolean;
}

/** Runs the action and asserts the store and the files on disk are byte-for-byte what they were. */
export async function expectNoChange<T>(node: NodeState, action: () => Promise<T>, options: NoChangeOptions = {}): Promise<T> {
  const except = options.exceptKeys;
  const keep = (snapshot: Awaited<ReturnType<typeof snapshotNode>>): Awaited<ReturnType<typeof snapshotNode>> =>
    except === undefined ? snapshot : { ...snapshot, revision: 0, store: snapshot.store.filter((kv) => !except(kv.key)) };
  const before = keep(await snapshotNode(node));
  const result = await action();
  const after = keep(await snapshotNode(node));
  if (options.exceptEvents === true) {
    const isNewEvent = (key: string): boolean => key.includes('/events/') && !before.store.some((kv) => kv.key === key);
    const added = after.store.filter((kv) => isNewEvent(kv.key));
    for (const kv of added) expect(JSON.parse(kv.value)).toMatchObject({ severity: 'WARNING' });
    expect({ store: after.store.filter((kv) => !isNewEvent(kv.key)), files: after.files }).toEqual({ store: before.store, files: before.files });
  } else {
    expect(after).toEqual(before);
  }
  return result;
}
