// Embedded single-node ClusterStore on SQLite (better-sqlite3). Every transaction is one SQLite
// transaction in WAL mode with synchronous=FULL, so a crash leaves either the old or the new state.
// A change log (kv_events) gives watches their history; watchers in this process are fed after commit.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, openSync } from 'node:fs';
import {
  type ClusterStore,
  type Compare,
  type KeyValue,
  type Lease,
  type RangeResult,
  type TxnOp,
  type TxnRequest,
  type TxnResult,
  type Watch,
  type WatchEvent,
  StoreUnavailableError,
  WatchCompactedError,
} from '../cluster-store.js';

interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: string | null;
}

interface EventRow {
  rev: number;
  type: 'put' | 'delete';
  key: string;
  value: string;
}

interface Watcher {
  prefix: string;
  lastRevision: number;
  onEvents: (events: WatchEvent[]) => void;
}

/** How many change-log entries to keep for watches that resume from an old revision. */
const EVENT_HISTORY = 10_000;

export interface SqliteStoreOptions {
  /**
   * Read another process's store (tests' expectNoChange): no schema set-up, no scrub, no lease clean-up on open
   * or close, and every write fails. Reads see what that process has committed.
   */
  readOnly?: boolean;
}

export class SqliteStore implements ClusterStore {
  private readonly db: Database.Database;
  private readonly watchers = new Set<Watcher>();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly readOnly: boolean;
  private closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.readOnly = options.readOnly === true;
    if (this.readOnly) {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      return;
    }
    // The store holds private keys: create it owner-only (SQLite gives its -wal/-shm files the same mode).
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Deleted content (a replaced private key, forgotten history) is overwritten with zeros, not left in free
    // pages; temporary tables and indexes stay in memory, never in a temp file.
    this.db.pragma('secure_delete = ON');
    this.db.pragma('temp_store = MEMORY');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (
        key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL,
        mod_rev INTEGER NOT NULL, version INTEGER NOT NULL, lease TEXT);
      CREATE TABLE IF NOT EXISTS kv_events (
        rev INTEGER NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,
        key TEXT NOT NULL, value TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS kv_events_rev ON kv_events (rev);
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 1);
    `);
    this.scrubOnce();
    // Leases of a previous process are gone with it: their keys go too, as etcd would do on expiry.
    const stale = this.sql('SELECT DISTINCT lease FROM kv WHERE lease IS NOT NULL').all() as { lease: string }[];
    for (const { lease } of stale) this.revokeLeaseNow(lease);
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.run(() => {
      const row = this.sql('SELECT * FROM kv WHERE key = ?').get(key) as KvRow | undefined;
      return row === undefined ? undefined : toKeyValue(row);
    });
  }

  list(prefix: string): Promise<RangeResult> {
    // No explicit transaction: this process is the file's only writer and better-sqlite3 is synchronous, so
    // nothing can commit between the two reads (a BEGIN/COMMIT pair here cost a tenth of a small request).
    // A read-only reader of another process's file reads both in one read transaction instead.
    return this.run(() => {
      const read = (): RangeResult => {
        const rows = this.sql('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key').all(prefix, prefixEnd(prefix)) as KvRow[];
        return { kvs: rows.map(toKeyValue), revision: this.currentRevision() };
      };
      return this.readOnly ? this.db.transaction(read).deferred() : read();
    });
  }

  txn(request: TxnRequest): Promise<TxnResult> {
    return this.run(() => {
      let events: WatchEvent[] = [];
      const apply = this.db.transaction((): TxnResult => {
        const succeeded = (request.compare ?? []).every((c) => this.holds(c));
        const ops = succeeded ? request.success : (request.failure ?? []);
        const revision = this.currentRevision();
        events = this.applyOps(ops, revision + 1);
        if (events.length === 0) return { succeeded, revision };
        this.sql("UPDATE meta SET value = ? WHERE name = 'revision'").run(revision + 1);
        this.sql('DELETE FROM kv_events WHERE rev < ?').run(revision + 1 - EVENT_HISTORY);
        return { succeeded, revision: revision + 1 };
      });
      const result = apply.immediate();
      if (events.length > 0) this.notify(events);
      return result;
    });
  }

  async watchPrefix(prefix: string, fromRevision: number, onEvents: (events: WatchEvent[]) => void): Promise<Watch> {
    const watcher: Watcher = { prefix, lastRevision: fromRevision, onEvents };
    // Read history and register in one synchronous step so no commit can fall between the two.
    await this.run(() => {
      const oldest = (this.sql('SELECT MIN(rev) AS rev FROM kv_events').get() as { rev: number | null }).rev;
      if (oldest !== null && fromRevision + 1 < oldest) {
        throw new WatchCompactedError(fromRevision, oldest - 1);
      }
      const rows = this.sql('SELECT rev, type, key, value FROM kv_events WHERE rev > ? ORDER BY seq')
        .all(fromRevision) as EventRow[];
      this.watchers.add(watcher);
      const past = rows.map((r) => ({ type: r.type, key: r.key, value: r.value, revision: r.rev }));
      if (past.length > 0) this.deliver(watcher, past);
    });
    return {
      close: async () => {
        this.watchers.delete(watcher);
      },
    };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    // One process owns the SQLite file, so a lease lives exactly as long as this store client:
    // it is revoked on close, and on the next open if the process died.
    const id = randomUUID();
    void ttlSeconds;
    const lease: Lease = {
      id,
      revoke: async () => {
        this.revokeLeaseNow(id);
      },
    };
    return lease;
  }

  /**
   * A database written before secure_delete may hold replaced private keys in its change log and in free pages.
   * Once per database: drop the change log (no watch outlives the process that opened it, so none resumes from
   * it) and rebuild the file (VACUUM, in memory: temp_store), then truncate the write-ahead log.
   */
  private scrubOnce(): void {
    if (this.db.prepare("SELECT 1 FROM meta WHERE name = 'history_scrubbed'").get() !== undefined) return;
    this.db.exec('DELETE FROM kv_events');
    this.db.exec('VACUUM');
    this.db.exec("INSERT INTO meta (name, value) VALUES ('history_scrubbed', 1)");
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  forgetHistory(keys: readonly string[], revision: number): Promise<void> {
    return this.run(() => {
      const forget = this.db.transaction(() => {
        const remove = this.sql('DELETE FROM kv_events WHERE key = ? AND rev < ?');
        for (const key of keys) remove.run(key, revision);
      });
      forget.immediate();
      // secure_delete zeroed the freed cells and pages in the new page versions; the write-ahead log still
      // holds the old versions until a checkpoint copies the new ones into the file and truncates the log.
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (result !== undefined && result.busy !== 0) throw new StoreUnavailableError('sqlite: the write-ahead log could not be truncated (busy)');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.readOnly) {
      this.closed = true;
      this.db.close();
      return;
    }
    const leases = this.sql('SELECT DISTINCT lease FROM kv WHERE lease IS NOT NULL').all() as { lease: string }[];
    for (const { lease } of leases) this.revokeLeaseNow(lease);
    this.watchers.clear();
    this.closed = true;
    this.db.close();
  }

  private revokeLeaseNow(lease: string): void {
    const keys = this.sql('SELECT key FROM kv WHERE lease = ?').all(lease) as { key: string }[];
    if (keys.length === 0) return;
    const events: WatchEvent[] = [];
    const apply = this.db.transaction(() => {
      const revision = this.currentRevision() + 1;
      events.push(...this.applyOps(keys.map((k) => ({ type: 'delete' as const, key: k.key })), revision));
      this.sql("UPDATE meta SET value = ? WHERE name = 'revision'").run(revision);
    });
    apply.immediate();
    this.notify(events);
  }

  /** Prepared statements are compiled once and reused: preparing per call dominated small reads. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private currentRevision(): number {
    return (this.sql("SELECT value FROM meta WHERE name = 'revision'").get() as { value: number }).value;
  }

  private holds(compare: Compare): boolean {
    const row = this.sql('SELECT * FROM kv WHERE key = ?').get(compare.key) as KvRow | undefined;
    if (compare.target === 'value') {
      if (row === undefined) return false;
      return compare.op === '==' ? row.value === compare.value : row.value !== compare.value;
    }
    const actual = compare.target === 'version' ? (row?.version ?? 0) : (row?.mod_rev ?? 0);
    switch (compare.op) {
      case '==':
        return actual === compare.value;
      case '!=':
        return actual !== compare.value;
      case '<':
        return actual < compare.value;
      case '>':
        return actual > compare.value;
    }
  }

  private applyOps(ops: TxnOp[], revision: number): WatchEvent[] {
    const events: WatchEvent[] = [];
    const record = this.sql('INSERT INTO kv_events (rev, type, key, value) VALUES (?, ?, ?, ?)');
    const remove = (key: string): void => {
      if (this.sql('DELETE FROM kv WHERE key = ?').run(key).changes > 0) {
        record.run(revision, 'delete', key, '');
        events.push({ type: 'delete', key, value: '', revision });
      }
    };
    for (const op of ops) {
      if (op.type === 'put') {
        this.sql(
            `INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (@key, @value, @rev, @rev, 1, @lease)
             ON CONFLICT(key) DO UPDATE SET value = @value, mod_rev = @rev, version = version + 1, lease = @lease`,
          )
          .run({ key: op.key, value: op.value, rev: revision, lease: op.lease ?? null });
        record.run(revision, 'put', op.key, op.value);
        events.push({ type: 'put', key: op.key, value: op.value, revision });
      } else if (op.type === 'delete') {
        remove(op.key);
      } else {
        const keys = this.sql('SELECT key FROM kv WHERE key >= ? AND key < ?')
          .all(op.prefix, prefixEnd(op.prefix)) as { key: string }[];
        for (const { key } of keys) remove(key);
      }
    }
    return events;
  }

  private notify(events: WatchEvent[]): void {
    for (const watcher of this.watchers) this.deliver(watcher, events);
  }

  private deliver(watcher: Watcher, events: WatchEvent[]): void {
    const fresh = events.filter((e) => e.revision > watcher.lastRevision && e.key.startsWith(watcher.prefix));
    if (fresh.length === 0) return;
    // Group by revision so each callback sees one transaction's changes together.
    let batch: WatchEvent[] = [];
    for (const event of fresh) {
      if (batch.length > 0 && batch[0]!.revision !== event.revision) {
        this.emit(watcher, batch);
        batch = [];
      }
      batch.push(event);
    }
    this.emit(watcher, batch);
  }

  private emit(watcher: Watcher, batch: WatchEvent[]): void {
    watcher.lastRevision = batch[0]!.revision;
    // Deliver asynchronously, as a remote store would, so callers never re-enter a transaction.
    queueMicrotask(() => {
      if (this.watchers.has(watcher)) watcher.onEvents(batch);
    });
  }

  private async run<T>(fn: () => T): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('store is closed');
    try {
      return fn();
    } catch (error) {
      if (error instanceof StoreUnavailableError || error instanceof WatchCompactedError) throw error;
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_')) {
        throw new StoreUnavailableError(`sqlite: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}

/** The smallest string greater than every string that starts with prefix (for an index range scan). */
function prefixEnd(prefix: string): string {
  return prefix === '' ? '\uffff' : prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function toKeyValue(row: KvRow): KeyValue {
  const kv: KeyValue = {
    key: row.key,
    value: row.value,
    createRevision: row.create_rev,
    modRevision: row.mod_rev,
    version: row.version,
  };
  if (row.lease !== null) kv.lease = row.lease;
  return kv;
}
