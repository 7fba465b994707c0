// The alert store: one record per alert (keys.alert), moved by raises and clears of its subjects. Every change
// that is not quiet also puts its event into the cluster event log (GET /v1/logs) and queues it for e-mail and
// webhook delivery (keys.alertOutbox), in the same transaction as the record, so an alert is never raised
// without its event and its delivery (at least once: the dispatcher deletes a queued delivery only when sent).
//
// API for a feature that raises alerts (ACME failures, CRL expiry…): add the alert to ALERTS in
// src/domain/alerts.ts, then either
//   await setAlert(store, clock, { name, subject, raised, severity, value, description }, { fence })
// (one call, its own compare-and-swap transaction; returns false when the fence failed or writers raced), or, to
// put the change into the feature's own transaction (so the alert moves with the state that explains it),
//   const { compare, ops } = await alertChangeOps(store, [{ change, event?, quiet? }], time)
// and add `compare` and `ops` to that transaction. `event` replaces the default event (defaultAlertEvent) and
// `quiet` moves the record without event or delivery (an alert switched off is forgotten silently).
import type { ClusterStore, Compare, TxnOp } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { eventPutOp } from '../store/event-log.js';
import type { Clock } from '../lib/clock.js';
import { ALERTS, applyAlertChanges, defaultAlertEvent, isAlertName, type AlertChange, type AlertEvent, type AlertRecord } from '../domain/alerts.js';
import type { AlertDelivery } from '../domain/alert-delivery.js';
import { randomBytes } from 'node:crypto';

export interface AlertChangeRequest {
  change: AlertChange;
  /** The event logged for it (default: defaultAlertEvent). */
  event?: AlertEvent;
  /** Move the record only: no event, no delivery. */
  quiet?: boolean;
}

export function alertEntityOf(name: string): 'cluster' | 'node' {
  return isAlertName(name) ? ALERTS[name].entity : 'cluster';
}

export function alertKey(name: string): string {
  return keys.alert(alertEntityOf(name), name);
}

export async function readAlertRecord(store: ClusterStore, name: string): Promise<{ record: AlertRecord; modRevision: number } | undefined> {
  const kv = await store.get(alertKey(name));
  return kv === undefined ? undefined : { record: JSON.parse(kv.value) as AlertRecord, modRevision: kv.modRevision };
}

/**
 * The compares and writes that apply `requests` at `time`: per alert, its record (guarded by its revision), and per
 * change that is not quiet its event (ordered after `firstEventOrder`) and its queued delivery. Changes that move
 * nothing (a clear of a subject that is not raised) write nothing.
 */
export async function alertChangeOps(
  store: ClusterStore,
  requests: readonly AlertChangeRequest[],
  time: string,
  firstEventOrder = 0,
): Promise<{ compare: Compare[]; ops: TxnOp[]; events: AlertEvent[] }> {
  const names = [...new Set(requests.map((r) => r.change.name))];
  const compare: Compare[] = [];
  const ops: TxnOp[] = [];
  const events: AlertEvent[] = [];
  let order = firstEventOrder;
  for (const name of names) {
    const current = await readAlertRecord(store, name);
    // Which subjects are raised as the changes are applied one by one: a clear of a subject that is not raised and
    // a raise of one that is (a refresh) log nothing.
    const raised = new Set(Object.keys(current?.record.instances ?? {}));
    const effective: AlertChangeRequest[] = [];
    const logged: AlertChangeRequest[] = [];
    for (const request of requests.filter((r) => r.change.name === name)) {
      const { subject, raised: raise } = request.change;
      const was = raised.has(subject);
      if (!raise && !was) continue;
      effective.push(request);
      if (raise) raised.add(subject);
      else raised.delete(subject);
      if (request.quiet !== true && raise !== was) logged.push(request);
    }
    if (effective.length === 0) continue;
    const next = applyAlertChanges(current?.record, name, effective.map((r) => r.change), time);
    compare.push({ key: alertKey(name), target: 'mod', op: '==', value: current?.modRevision ?? 0 });
    ops.push({ type: 'put', key: alertKey(name), value: JSON.stringify(next) });
    for (const request of logged) {
      const event = request.event ?? defaultAlertEvent(request.change, time);
      events.push(event);
      ops.push(eventPutOp(event, order));
      ops.push(deliveryPutOp(name, event, time, order));
      order += 1;
    }
  }
  return { compare, ops, events };
}

/** Queues one event for delivery. The id sorts by time, so deliveries go out in the order of their events. */
function deliveryPutOp(name: string, event: AlertEvent, time: string, order: number): TxnOp {
  const id = `${time}-${String(order).padStart(2, '0')}${randomBytes(4).toString('hex')}`;
  const delivery: AlertDelivery = {
    id,
    alert: name,
    entity: isAlertName(name) ? ALERTS[name].entity : 'unknown',
    event,
    created_at: time,
    pending: ['email', 'webhook'],
    attempts: 0,
    next_attempt_at: time,
    last_error: null,
  };
  return { type: 'put', key: keys.alertOutbox(id), value: JSON.stringify(delivery) };
}

/**
 * One raise or clear in its own transaction (compare-and-swap on the record, plus the fence when given); retried
 * on a concurrent change of the record. Returns whether it was written (or had nothing to write).
 */
export async function setAlert(store: ClusterStore, clock: Clock, change: AlertChange, options: { fence?: () => Compare | undefined; event?: AlertEvent } = {}): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { compare, ops } = await alertChangeOps(store, [{ change, ...(options.event === undefined ? {} : { event: options.event }) }], clock.now().toISOString());
    if (ops.length === 0) return true;
    const fence = options.fence?.();
    const result = await store.txn({ compare: fence === undefined ? compare : [...compare, fence], success: ops });
    if (result.succeeded) return true;
    const record = await store.get(alertKey(change.name));
    if ((record?.modRevision ?? 0) === compare[0]?.value) return false; // not the record: the fence failed
  }
  return false;
}
