// Writes of the entities that have a uid from a counter and unique index keys (users, roles, Redis ACLs,
// databases). Each write is one transaction whose compares guard the counter, the entity's key and every index
// key it takes, so two concurrent writers can never both win a uid or a unique name; the loser retries or
// reports a conflict. The routes keep their own validation and error texts.
import type { ClusterStore, Compare, TxnOp, TxnResult } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { ApiError } from '../../lib/api-error.js';

/** Where an entity kind lives in the store. */
export interface EntityKind<R> {
  /** The counter its uids come from (keys.counter(name)). */
  counter: string;
  /** The uid given to the first entity while the counter does not exist yet (default 1). */
  firstUid?: number;
  key(uid: number): string;
  /** The unique index keys a record holds (each maps to the record's uid). */
  indexKeys(record: R): string[];
}

export interface CreateEntityPlan<R> {
  /** The uid the request asked for; otherwise the counter's next one. */
  requestedUid: number | undefined;
  /** Builds and checks the record for a uid (throws ApiError to refuse it). Called again on every attempt. */
  build(uid: number): Promise<R> | R;
  /** Check only (`?dry_run`): return the built record and write nothing. */
  dryRun?: boolean;
  /** Called after a transaction lost a race: throws to give up, or returns to try again on fresh reads. */
  onConflict(attempt: number, record: R): Promise<void> | void;
  /** More ops for the same transaction (e.g. the audit event of the change), built for the record written. */
  alsoWrite?(record: R): TxnOp[];
}

/** The record written (revision undefined on a dry run). */
export interface CreatedEntity<R> {
  record: R;
  revision: number | undefined;
}

export async function createEntity<R>(store: ClusterStore, kind: EntityKind<R>, plan: CreateEntityPlan<R>): Promise<CreatedEntity<R>> {
  const counterKey = keys.counter(kind.counter);
  for (let attempt = 1; ; attempt++) {
    const counter = await store.get(counterKey);
    const last = counter === undefined ? (kind.firstUid ?? 1) - 1 : Number(counter.value);
    const uid = plan.requestedUid ?? last + 1;
    const record = await plan.build(uid);
    if (plan.dryRun === true) return { record, revision: undefined };
    const indexKeys = kind.indexKeys(record);
    const result = await store.txn({
      compare: [
        { key: counterKey, target: 'version', op: '==', value: counter?.version ?? 0 },
        { key: kind.key(uid), target: 'version', op: '==', value: 0 },
        ...indexKeys.map(isAbsent),
      ],
      success: [
        { type: 'put', key: counterKey, value: String(Math.max(last, uid)) },
        { type: 'put', key: kind.key(uid), value: JSON.stringify(record) },
        ...indexKeys.map((key) => indexPut(key, uid)),
        ...(plan.alsoWrite?.(record) ?? []),
      ],
    });
    if (result.succeeded) return { record, revision: result.revision };
    await plan.onConflict(attempt, record);
  }
}

/** 409 uid_exists ("<what> <uid> already exists") when the uid is taken; for build() of a requested uid. */
export async function assertUidFree(store: ClusterStore, kind: EntityKind<unknown>, uid: number, what: string): Promise<void> {
  if ((await store.get(kind.key(uid))) !== undefined) throw new ApiError('uid_exists', `${what} ${uid} already exists`);
}

/** The usual onConflict: try again a few times, then 409 config_edit_conflict with this description. */
export function retryThenConflict(description: string, maxAttempts = 5): (attempt: number) => void {
  return (attempt) => {
    if (attempt >= maxAttempts) throw new ApiError('config_edit_conflict', description);
  };
}

export interface EntityUpdate<R> {
  uid: number;
  /** The entity's mod revision when it was read: the write fails if anything changed it since. */
  modRevision: number;
  previous: R;
  next: R;
  /** More ops for the same transaction (e.g. the audit event of the change). */
  alsoWrite?: TxnOp[];
  /** More compares the write needs (e.g. the revisions of records a check relied on). */
  alsoCompare?: Compare[];
}

/**
 * Replaces an entity and moves the index keys that changed (a new one must not exist yet). Returns the
 * transaction result; the caller reports a failure in its own words.
 */
export function updateEntity<R>(store: ClusterStore, kind: EntityKind<R>, update: EntityUpdate<R>): Promise<TxnResult> {
  const before = kind.indexKeys(update.previous);
  const after = kind.indexKeys(update.next);
  const added = after.filter((key) => !before.includes(key));
  const removed = before.filter((key) => !after.includes(key));
  const key = kind.key(update.uid);
  return store.txn({
    compare: [{ key, target: 'mod', op: '==', value: update.modRevision }, ...added.map(isAbsent), ...(update.alsoCompare ?? [])],
    success: [
      { type: 'put', key, value: JSON.stringify(update.next) },
      ...removed.map((k): TxnOp => ({ type: 'delete', key: k })),
      ...added.map((k) => indexPut(k, update.uid)),
      ...(update.alsoWrite ?? []),
    ],
  });
}

/** Deletes an entity and its index keys if it is still at modRevision. */
export function deleteEntity<R>(
  store: ClusterStore,
  kind: EntityKind<R>,
  uid: number,
  record: R,
  modRevision: number,
  alsoWrite: TxnOp[] = [],
): Promise<TxnResult> {
  const key = kind.key(uid);
  return store.txn({
    compare: [{ key, target: 'mod', op: '==', value: modRevision }],
    success: [{ type: 'delete', key }, ...kind.indexKeys(record).map((k): TxnOp => ({ type: 'delete', key: k })), ...alsoWrite],
  });
}

function isAbsent(key: string): Compare {
  return { key, target: 'version', op: '==', value: 0 };
}

function indexPut(key: string, uid: number): TxnOp {
  return { type: 'put', key, value: String(uid) };
}
