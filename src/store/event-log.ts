// Writing to the cluster event log (GET /v1/logs): the one place an event's store key is made (keys.event).
// Every writer (certificate audit, entity changes, login refusals, OCSP and expiry alerts) puts its events
// with eventPutOp, in the same transaction as the change they describe.
import { randomBytes } from 'node:crypto';
import type { TxnOp } from './cluster-store.js';
import { keys } from './keys.js';

/**
 * The put of one event. Keys sort by the event's ISO time; the random suffix separates events of one
 * transaction (or of one millisecond). `order`, when given, goes before the random part so that the events
 * of one write keep the order they were made in (the expiry checker's clear-then-raise).
 */
export function eventPutOp(event: { time: string }, order?: number): Extract<TxnOp, { type: 'put' }> {
  const unique = `${order === undefined ? '' : String(order).padStart(2, '0')}${randomBytes(4).toString('hex')}`;
  return { type: 'put', key: keys.event(event.time, unique), value: JSON.stringify(event) };
}
