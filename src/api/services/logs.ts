// The cluster event log (GET /v1/logs): every event in the store (certificate audit trail, alerts, and changes
// of databases, users, roles and ACLs), selected by time, order, offset and limit (src/domain/event-log.ts).
import type { ApiDeps } from '../api-deps.js';
import { listAuditEvents } from '../state/audit-log.js';
import { selectEvents, type EventQuery, type StoredEvent } from '../../domain/event-log.js';

export async function listLogs(deps: ApiDeps, query: EventQuery): Promise<StoredEvent[]> {
  const events = (await listAuditEvents(deps.store, Number.MAX_SAFE_INTEGER)) as unknown as StoredEvent[];
  return selectEvents(events, query);
}
