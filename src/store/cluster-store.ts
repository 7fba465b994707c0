// The cluster configuration store (CCS) interface, shaped like etcd v3: keys with revisions, multi-key
// transactions guarded by compares, watches that resume from a revision, and leases for liveness.
// Backends: SqliteStore (embedded, one node) and, later, EtcdStore. Both pass test/store-contract.

export interface KeyValue {
  key: string;
  value: string;
  /** Store revision at which the key was created. */
  createRevision: number;
  /** Store revision of the last change to the key. */
  modRevision: number;
  /** Number of writes since the key was created (0 when the key does not exist). */
  version: number;
  /** Lease the key is attached to, if any (deleted when the lease expires). */
  lease?: string;
}

export type Compare =
  | { key: string; target: 'version'; op: CompareOp; value: number }
  | { key: string; target: 'mod'; op: CompareOp; value: number }
  | { key: string; target: 'value'; op: '==' | '!='; value: string };

export type CompareOp = '==' | '!=' | '<' | '>';

export type TxnOp =
  | { type: 'put'; key: string; value: string; lease?: string }
  | { type: 'delete'; key: string }
  | { type: 'deletePrefix'; prefix: string };

export interface TxnRequest {
  compare?: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResult {
  succeeded: boolean;
  /** Store revision after the transaction (unchanged when nothing was written). */
  revision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** Value after a put; empty for deletes. */
  value: string;
  revision: number;
}

export interface Watch {
  close(): Promise<void>;
}

export interface Lease {
  readonly id: string;
  /** Stops keep-alives and deletes every key attached to the lease. */
  revoke(): Promise<void>;
  /**
   * Called once if the lease lapses without revoke() (keep-alives could not reach the store in time): its keys
   * are gone and the holder must grant a new lease. Backends whose leases cannot lapse (SQLite) omit it.
   */
  onLost?(listener: (error: Error) => void): void;
}

export interface RangeResult {
  kvs: KeyValue[];
  revision: number;
}

export interface ClusterStore {
  get(key: string): Promise<KeyValue | undefined>;
  /** All keys under a prefix, ordered by key, with the store revision they were read at. */
  list(prefix: string): Promise<RangeResult>;
  txn(request: TxnRequest): Promise<TxnResult>;
  /**
   * Calls onEvents with every change under prefix after fromRevision (exclusive), in revision order,
   * each revision's events in one batch, and then live changes. No change is skipped or repeated.
   * When the history after fromRevision is gone (etcd compacted it, SQLite trimmed its change log) the watch
   * cannot keep that promise: it rejects with WatchCompactedError when that is known at creation, and a live
   * watch that loses its history (a client that fell behind, a reconnect after a compaction) ends and calls
   * onLost once with WatchCompactedError. The caller re-reads what it needs and watches again from the revision
   * of that read (src/store/follow-prefix.ts does this).
   */
  watchPrefix(prefix: string, fromRevision: number, onEvents: (events: WatchEvent[]) => void, onLost?: (error: Error) => void): Promise<Watch>;
  /** A lease kept alive by this store client until revoked or closed; keys attached to it vanish when it lapses. */
  grantLease(ttlSeconds: number): Promise<Lease>;
  /**
   * Makes the values `keys` held before `revision` unreadable from the store's history (a replaced or deleted
   * private key must not stay in the change log). The values current at `revision` stay, as do their events.
   * etcd compacts the whole keyspace to `revision` (history before it is gone for every key: a watch that
   * resumes from before it is refused as compacted, and deletes at `revision` itself are no longer replayed);
   * SQLite drops only these keys' earlier change-log entries
   * and wipes their bytes from the database file and its write-ahead log (secure_delete, WAL truncation).
   */
  forgetHistory(keys: readonly string[], revision: number): Promise<void>;
  close(): Promise<void>;
}

/** The store cannot be reached or answered with an error; the API maps it to 503. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The store no longer holds the history a watch asked for (compacted past its revision). */
export class WatchCompactedError extends Error {
  override name = 'WatchCompactedError';
  constructor(
    readonly fromRevision: number,
    /** The oldest revision still available, when the backend says. */
    readonly compactRevision: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`watch history after revision ${fromRevision} has been compacted${compactRevision === undefined ? '' : ` (compacted up to ${compactRevision})`}`, options);
  }
}

/** Convenience: an unconditional single-key put. */
export async function putValue(store: ClusterStore, key: string, value: string): Promise<number> {
  const result = await store.txn({ success: [{ type: 'put', key, value }] });
  return result.revision;
}

export async function getJson<T>(store: ClusterStore, key: string): Promise<T | undefined> {
  const kv = await store.get(key);
  return kv === undefined ? undefined : (JSON.parse(kv.value) as T);
}

export async function listJson<T>(store: ClusterStore, prefix: string): Promise<T[]> {
  const { kvs } = await store.list(prefix);
  return kvs.map((kv) => JSON.parse(kv.value) as T);
}
