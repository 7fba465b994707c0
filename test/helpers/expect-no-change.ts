// Snapshots a node's state — every key and value in the store and the content hash and mode of every file
// under the data dir — so a test can prove a rejected request changed nothing at all.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readdir, readFile, lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';

export interface NodeSnapshot {
  store: Array<{ key: string; value: string; mod_rev: number }>;
  revision: number;
  files: Record<string, string>;
}

export async function snapshotNode(dataDir: string): Promise<NodeSnapshot> {
  const db = new Database(path.join(dataDir, 'ccs.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const store = db.prepare('SELECT key, value, mod_rev FROM kv ORDER BY key').all() as NodeSnapshot['store'];
    const revision = (db.prepare("SELECT value FROM meta WHERE name = 'revision'").get() as { value: number }).value;
    return { store, revision, files: await hashTree(dataDir) };
  } finally {
    db.close();
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
export async function expectNoChange<T>(dataDir: string, action: () => Promise<T>, options: NoChangeOptions = {}): Promise<T> {
  const except = options.exceptKeys;
  const keep = (snapshot: Awaited<ReturnType<typeof snapshotNode>>): Awaited<ReturnType<typeof snapshotNode>> =>
    except === undefined ? snapshot : { ...snapshot, revision: 0, store: snapshot.store.filter((kv) => !except(kv.key)) };
  const before = keep(await snapshotNode(dataDir));
  const result = await action();
  const after = keep(await snapshotNode(dataDir));
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
