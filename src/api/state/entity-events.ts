// Events for /v1/logs about who changed which user, role, database, Redis ACL or cluster setting (issue 17.8),
// written in the same store transaction as the change, like the certificate events of audit-log.ts. Events
// name the fields that changed, never their values: no password, hash or key can reach the trail.
import type { TxnOp } from '../../store/cluster-store.js';
import { eventPutOp } from '../../store/event-log.js';
import type { Clock } from '../../lib/clock.js';
import type { Caller } from '../auth/caller.js';

export type EntityKindName = 'user' | 'role' | 'bdb' | 'redis_acl' | 'cluster' | 'node';

export type EntityChangeType =
  | `${Exclude<EntityKindName, 'cluster' | 'node'>}_${'created' | 'updated' | 'deleted'}`
  | 'node_removed'
  | 'bdb_flush_requested'
  | 'bdb_flush_withdrawn'
  | 'user_password_changed'
  | 'cluster_updated'
  | 'cluster_mtls_updated'
  | 'cluster_policy_updated';

export interface EntityChangeEvent {
  time: string;
  type: EntityChangeType;
  severity: 'INFO';
  /** Who did it (the same fields as the certificate events). */
  user_uid: number;
  user_email: string;
  target_type: EntityKindName;
  target_uid?: number;
  target_name?: string;
  /** Names of the fields that changed (updates only); values are never recorded. */
  changed_fields?: string[];
}

/** Fields whose values are secrets, and the name an event shows for them. */
const SECRET_FIELDS: Readonly<Record<string, string>> = {
  password_hash: 'password',
  redis_password_sha256: 'password',
  authentication_redis_pass: 'authentication_redis_pass',
};

/** Bookkeeping fields that change with every write and say nothing about what the caller changed. */
const NOISE_FIELDS = new Set(['last_changed_time', 'password_issue_date', 'status']);

/** The top-level fields whose JSON differs between two versions of a record, secrets under their public name. */
export function changedFields(previous: object, next: object): string[] {
  const before = previous as Record<string, unknown>;
  const after = next as Record<string, unknown>;
  const names = new Set<string>();
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (NOISE_FIELDS.has(field)) continue;
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) names.add(SECRET_FIELDS[field] ?? field);
  }
  return [...names].sort();
}

export interface EntityChange {
  type: EntityChangeType;
  target_type: EntityKindName;
  target_uid?: number | undefined;
  target_name?: string | undefined;
  changed_fields?: string[] | undefined;
}

export function entityChangeEvent(clock: Clock, caller: Caller, change: EntityChange): EntityChangeEvent {
  const event: EntityChangeEvent = {
    time: clock.now().toISOString(),
    type: change.type,
    severity: 'INFO',
    user_uid: caller.uid,
    user_email: caller.email,
    target_type: change.target_type,
  };
  if (change.target_uid !== undefined) event.target_uid = change.target_uid;
  if (change.target_name !== undefined) event.target_name = change.target_name;
  if (change.changed_fields !== undefined) event.changed_fields = change.changed_fields;
  return event;
}

/** The put of any event into the event log (src/store/event-log.ts makes every event key). */
export { eventPutOp };

/** One entity change as a transaction op. */
export function entityChangeOp(clock: Clock, caller: Caller, change: EntityChange): TxnOp {
  return eventPutOp(entityChangeEvent(clock, caller, change));
}

/**
 * PUT /v1/cluster and PUT /v1/cluster/policy: cluster_mtls_updated for the mtls_* fields that changed,
 * cluster_updated (or cluster_policy_updated) for the others; nothing when nothing changed.
 */
export function clusterChangeEvents(clock: Clock, caller: Caller, previous: object, next: object, document: 'cluster' | 'policy'): TxnOp[] {
  const fields = changedFields(previous, next);
  if (document === 'policy') {
    return fields.length === 0 ? [] : [entityChangeOp(clock, caller, { type: 'cluster_policy_updated', target_type: 'cluster', changed_fields: fields })];
  }
  const mtls = fields.filter((f) => f.startsWith('mtls_'));
  const others = fields.filter((f) => !f.startsWith('mtls_'));
  return [
    ...(mtls.length > 0 ? [entityChangeOp(clock, caller, { type: 'cluster_mtls_updated', target_type: 'cluster', changed_fields: mtls })] : []),
    ...(others.length > 0 ? [entityChangeOp(clock, caller, { type: 'cluster_updated', target_type: 'cluster', changed_fields: others })] : []),
  ];
}
