// The cluster event log as GET /v1/logs shows it (RS "Logs requests"): events in the reference's time format
// (`2014-08-29T11:19:49Z`, UTC, whole seconds), each with a `severity` (INFO unless the event has its own),
// filtered by `stime`/`etime` (ISO 8601, inclusive, at whole seconds), ordered (`asc`, the default, or `desc`), then `offset` and
// `limit`. Stored events keep millisecond times (their keys sort by them); only the view is rounded.

export type EventSeverity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export const DEFAULT_EVENT_SEVERITY: EventSeverity = 'INFO';

/** An event as stored: a time, a type and any event-specific fields. */
export interface StoredEvent {
  time: string;
  type: string;
  severity?: string;
  [field: string]: unknown;
}

export interface EventQuery {
  stime?: Date | undefined;
  etime?: Date | undefined;
  order?: 'asc' | 'desc' | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

/** ISO 8601 date or date-time: `2024-01-31`, `2024-01-31T10:00`, `…:00Z`, `…:00.123+02:00`. No zone means UTC. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses a query time, or undefined when it is not ISO 8601. */
export function parseEventTime(value: string): Date | undefined {
  const match = ISO_8601.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const normalizedZone = zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${normalizedZone}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // Reject calendar overflow such as 2024-02-31 (Date would roll it into March).
  if (zone === 'Z' && (date.getUTCMonth() + 1 !== Number(month) || date.getUTCDate() !== Number(day))) return undefined;
  return date;
}

/** The reference's event time: UTC, whole seconds, `Z`. */
export function formatEventTime(time: string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function toEventView(event: StoredEvent): StoredEvent {
  return { ...event, time: formatEventTime(event.time), severity: event.severity ?? DEFAULT_EVENT_SEVERITY };
}

/** Stored events (in time order) → the page the query asks for, in the view form. */
export function selectEvents(events: readonly StoredEvent[], query: EventQuery): StoredEvent[] {
  const from = query.stime?.getTime() ?? -Infinity;
  const to = query.etime?.getTime() ?? Infinity;
  const inRange = events.filter((event) => {
    // Compared at the whole second the view shows, so an event's shown time used as etime includes it.
    const at = Math.floor(Date.parse(event.time) / 1000) * 1000;
    return Number.isNaN(at) || (at >= from && at <= to);
  });
  const ordered = query.order === 'desc' ? inRange.reverse() : inRange;
  const offset = query.offset ?? 0;
  const page = query.limit === undefined ? ordered.slice(offset) : ordered.slice(offset, offset + query.limit);
  return page.map(toEventView);
}
