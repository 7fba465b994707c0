// ClusterStore on etcd v3 (the `etcd3` client) for clusters of several nodes: transactions with compares,
// prefix ranges, watches that resume from the last delivered revision, leases kept alive by this client.
// Every call is bounded (deadline per request, timeout on watch creation and cancel), and every error of
// the client or the server is translated to StoreUnavailableError in one place (`translate`).
//
// Watch state machine (per watchPrefix call):
//   creating --created--> live --stream error--> disconnected --reconnect (watchBackoff)--> live
//   creating --timeout / error--> failed (watchPrefix rejects)        live|disconnected --close()--> closed
//   live|disconnected --etcd cancels it (its next revision compacted)--> lost (onLost(WatchCompactedError))
// The client replays a reconnecting watch from `request.start_revision`, which it sets from response headers
// (the *store* revision, which can run ahead of the events delivered). We set it ourselves on every
// (re)connect to the last revision we delivered + 1, and drop events at or below it, so nothing is missed
// or delivered twice.
import { Etcd3, GRPCDeadlineExceededError, isRecoverableError, Range, type IOptions, type IKeyValue, type ICompare, type IRequestOp, type IEvent, type IWatchResponse } from 'etcd3';
import { guardEtcd3WatchManager } from './etcd3-watch-patch.js';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, noop, retry, type IBackoff } from 'cockatiel';
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

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  hosts: string[];
  /** Prepended to every key (e.g. one namespace per test); results are returned without it. */
  keyPrefix?: string;
  /** Deadline of every unary request and of watch creation/cancel (default 3000 ms). */
  requestTimeoutMs?: number;
  /** Longest wait between watch reconnect attempts (default 2000 ms). */
  maxWatchBackoffMs?: number;
  /** Told when a watch response for a watcher the etcd3 client no longer knows was dropped (etcd3-watch-patch.ts). */
  onDroppedWatchResponse?: (error: Error) => void;
}

/** Parses `etcd://host:port[,host:port]` (the --store flag) into client URLs. */
export function parseEtcdUrl(url: string): string[] {
  const match = /^etcd:\/\/(.+)$/.exec(url);
  if (match === null) throw new Error(`not an etcd store URL: ${url}`);
  return match[1]!.split(',').map((hostPort) => `http://${hostPort}`);
}

const COMPARE_RESULT = { '==': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;

export class EtcdStore implements ClusterStore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly watches = new Set<{ close(): Promise<void> }>();
  private readonly leases = new Set<Lease>();
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    guardEtcd3WatchManager((error) => options.onDroppedWatchResponse?.(error));
    this.prefix = options.keyPrefix ?? '';
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
    const single = options.hosts.length === 1;
    const clientOptions: IOptions = {
      hosts: options.hosts,
      dialTimeout: this.timeoutMs,
      // Unary calls get a deadline; streams (watch, lease keep-alive) are bounded by their own timers.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + this.timeoutMs }),
      grpcOptions: {
        // Detect a frozen etcd on idle streams; etcd's default enforcement allows pings every 5 s.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 1,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        // Reconnect quickly once etcd is back (grpc's default backoff grows to two minutes).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      },
      faultHandling: {
        // The client's default breaker fails every call for 5 s after etcd returns (STACK-NOTES). With one
        // host there is nowhere else to go, so no breaker at all; with several, a short one steers calls
        // away from a dead member, and the global policy retries once per other host.
        host: () => (single ? noop : circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) })),
        global: single ? noop : retry(handleWhen(isRecoverableError), { maxAttempts: options.hosts.length - 1 }),
        // The client calls .next() on this (a backoff factory) although its typings ask for a backoff.
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: options.maxWatchBackoffMs ?? 2000 }) as unknown as IBackoff<unknown>,
      },
    };
    this.client = new Etcd3(clientOptions);
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.call(async () => {
      const response = await this.client.kv.range({ key: this.encode(key) });
      const kv = response.kvs[0];
      return kv === undefined ? undefined : this.toKeyValue(kv);
    });
  }

  list(prefix: string): Promise<RangeResult> {
    return this.call(async () => {
      const range = Range.prefix(this.encode(prefix));
      const response = await this.client.kv.range({ key: range.start, range_end: range.end });
      return { kvs: response.kvs.map((kv) => this.toKeyValue(kv)), revision: Number(response.header.revision) };
    });
  }

  txn(request: TxnRequest): Promise<TxnResult> {
    return this.call(async () => {
      const response = await this.client.kv.txn({
        compare: (request.compare ?? []).map((c) => this.toCompare(c)),
        success: request.success.map((op) => this.toRequestOp(op)),
        failure: (request.failure ?? []).map((op) => this.toRequestOp(op)),
      });
      return { succeeded: response.succeeded, revision: Number(response.header.revision) };
    });
  }

  async watchPrefix(prefix: string, fromRevision: number, onEvents: (events: WatchEvent[]) => void, onLost?: (error: Error) => void): Promise<Watch> {
    this.assertOpen();
    let lastDelivered = fromRevision;
    let closed = false;
    const watcher = this.client.watch().prefix(this.encode(prefix)).startRevision(String(fromRevision + 1)).watcher();
    // Before every (re)connect the client sends watcher.request: resume right after what we delivered.
    watcher.on('connecting', () => {
      watcher.request.start_revision = String(lastDelivered + 1);
    });
    watcher.on('data', (response: IWatchResponse) => {
      if (closed) return;
      // The client has already stripped its own (empty) namespace from keys; decode strips ours.
      for (const batch of toWatchBatches(response.events ?? [], lastDelivered, (key) => this.decode(key))) {
        lastDelivered = batch[0]!.revision;
        onEvents(batch);
      }
    });
    // A watch that etcd cancels ends for good. etcd cancels a watch whose next revision was compacted (a client
    // that fell behind, or a reconnect after a compaction) without a reason text, so ask etcd whether that
    // revision is still readable and hand the owner a typed WatchCompactedError (or what else went wrong).
    let connected = false;
    watcher.on('error', (error: Error) => {
      if (closed || !connected) return;
      closed = true;
      this.watches.delete(handle);
      void this.explainCancel(lastDelivered, error).then((reason) => onLost?.(reason));
    });

    const cancel = async (): Promise<void> => {
      closed = true;
      await withTimeout(watcher.cancel(), this.timeoutMs).catch(() => undefined);
    };
    const handle = {
      close: async () => {
        this.watches.delete(handle);
        await cancel();
      },
    };
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          watcher.once('connected', () => resolve());
          watcher.once('error', (error: Error) => reject(error));
        }),
        this.timeoutMs,
      );
    } catch (error) {
      await cancel();
      throw error instanceof TimeoutError ? translate(error, `watch ${prefix}`) : await this.explainCancel(lastDelivered, error);
    }
    connected = true;
    this.watches.add(handle);
    return handle;
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    this.assertOpen();
    const etcdLease = this.client.lease(ttlSeconds);
    const lostListeners = new Set<(error: Error) => void>();
    let lostError: Error | undefined;
    etcdLease.on('lost', (error: Error) => {
      lostError = translate(error, 'lease');
      for (const listener of lostListeners) listener(lostError);
    });
    const id = await this.call(() => etcdLease.grant()).catch(async (error: unknown) => {
      etcdLease.release();
      throw error;
    });
    const lease: Lease = {
      id,
      revoke: async () => {
        this.leases.delete(lease);
        await this.call(() => etcdLease.revoke({ deadline: Date.now() + this.timeoutMs }));
      },
      onLost: (listener) => {
        if (lostError !== undefined) queueMicrotask(() => listener(lostError!));
        else lostListeners.add(listener);
      },
    };
    this.leases.add(lease);
    return lease;
  }

  forgetHistory(keys: readonly string[], revision: number): Promise<void> {
    // etcd keeps every revision of every key until a compaction, which is keyspace-wide: compact to `revision`
    // (physically, so the old values are out of the backend when this returns). `keys` only matters to SQLite.
    void keys;
    return this.call(async () => {
      try {
        await this.client.kv.compact({ revision: String(revision), physical: true });
      } catch (error) {
        // Someone already compacted at or past `revision`: what we wanted gone is gone.
        if (error instanceof Error && /required revision has been compacted/.test(error.message)) return;
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches].map((w) => w.close()));
    // Revoke so keys attached to our leases vanish now rather than at TTL expiry (best effort: etcd may be down).
    await Promise.all([...this.leases].map((l) => l.revoke().catch(() => undefined)));
    this.client.close();
  }

  /**
   * Why etcd cancelled a watch: WatchCompactedError when the revision after the last one delivered can no
   * longer be read ("required revision has been compacted"), else the cancel itself as StoreUnavailableError.
   */
  private async explainCancel(lastDelivered: number, cancelError: unknown): Promise<Error> {
    try {
      await this.client.kv.range({ key: this.encode('/'), revision: String(lastDelivered + 1), limit: 1, count_only: true });
    } catch (error) {
      if (error instanceof Error && /compacted/i.test(error.message)) {
        return new WatchCompactedError(lastDelivered, undefined, { cause: cancelError });
      }
    }
    return translate(cancelError, 'watch (cancelled by etcd)');
  }

  /** Runs one call against etcd: the one place where backend errors become StoreUnavailableError. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn();
    } catch (error) {
      throw translate(error, 'request');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('store is closed');
  }

  private encode(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  private decode(key: Buffer): string {
    return key.toString().slice(this.prefix.length);
  }

  private toKeyValue(kv: IKeyValue): KeyValue {
    const result: KeyValue = {
      key: this.decode(kv.key),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
    };
    if (kv.lease !== '0' && kv.lease !== '' && kv.lease !== undefined) result.lease = kv.lease;
    return result;
  }

  private toCompare(compare: Compare): ICompare {
    const base = { key: this.encode(compare.key), result: COMPARE_RESULT[compare.op] };
    switch (compare.target) {
      case 'version':
        return { ...base, target: 'Version', version: compare.value };
      case 'mod':
        return { ...base, target: 'Mod', mod_revision: compare.value };
      case 'value':
        return { ...base, target: 'Value', value: Buffer.from(compare.value) };
    }
  }

  private toRequestOp(op: TxnOp): IRequestOp {
    switch (op.type) {
      case 'put':
        return { request_put: { key: this.encode(op.key), value: Buffer.from(op.value), ...(op.lease === undefined ? {} : { lease: op.lease }) } };
      case 'delete':
        return { request_delete_range: { key: this.encode(op.key) } };
      case 'deletePrefix': {
        const range = Range.prefix(this.encode(op.prefix));
        return { request_delete_range: { key: range.start, range_end: range.end } };
      }
    }
  }
}

/**
 * Splits the events of one watch response into per-revision batches (one transaction each), dropping every
 * event at or below the last delivered revision, so a replay after a reconnect never repeats a change.
 */
export function toWatchBatches(events: readonly IEvent[], lastDelivered: number, decodeKey: (key: Buffer) => string): WatchEvent[][] {
  const batches: WatchEvent[][] = [];
  for (const event of events) {
    const revision = Number(event.kv.mod_revision);
    if (revision <= lastDelivered) continue;
    const watchEvent: WatchEvent = {
      type: event.type === 'Delete' ? 'delete' : 'put',
      key: decodeKey(event.kv.key),
      value: event.type === 'Delete' ? '' : event.kv.value.toString(),
      revision,
    };
    const current = batches[batches.length - 1];
    if (current !== undefined && current[0]!.revision === revision) current.push(watchEvent);
    else batches.push([watchEvent]);
  }
  return batches;
}

function translate(error: unknown, what: string): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const reason = error instanceof GRPCDeadlineExceededError ? 'timed out' : error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`etcd ${what} failed: ${reason}`, { cause: error });
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer from etcd within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
