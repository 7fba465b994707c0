import { describe, expect, it } from 'vitest';
import { formatEventTime, parseEventTime, selectEvents, type StoredEvent } from './event-log.js';

const events: StoredEvent[] = [
  { time: '2026-01-01T10:00:00.123Z', type: 'certificate_updated' },
  { time: '2026-01-01T11:00:00.000Z', type: 'ocsp_query_failed', severity: 'ERROR' },
  { time: '2026-01-01T12:00:00.999Z', type: 'bdb_created' },
];

describe('event log view', () => {
  it('parses ISO 8601 query times (UTC when no zone) and refuses anything else', () => {
    expect(parseEventTime('2026-01-01T10:00:00Z')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(parseEventTime('2026-01-01T10:00:00')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(parseEventTime('2026-01-01T12:00:00+02:00')?.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(parseEventTime('2026-01-01T10:00:00.5Z')?.toISOString()).toBe('2026-01-01T10:00:00.500Z');
    expect(parseEventTime('2026-01-01')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    for (const bad of ['yesterday', '1767225600', '2026-02-31', '2026-01-01T25:00:00Z', '']) expect(parseEventTime(bad)).toBeUndefined();
  });

  it('formats times as the reference does and gives every event a severity', () => {
    expect(formatEventTime('2026-01-01T10:00:00.123Z')).toBe('2026-01-01T10:00:00Z');
    expect(selectEvents(events, {}).map((e) => [e.time, e.severity])).toEqual([
      ['2026-01-01T10:00:00Z', 'INFO'],
      ['2026-01-01T11:00:00Z', 'ERROR'],
      ['2026-01-01T12:00:00Z', 'INFO'],
    ]);
  });

  it('filters by stime/etime (inclusive), orders, then applies offset and limit', () => {
    const types = (query: Parameters<typeof selectEvents>[1]): string[] => selectEvents(events, query).map((e) => e.type);
    expect(types({ stime: new Date('2026-01-01T10:30:00Z') })).toEqual(['ocsp_query_failed', 'bdb_created']);
    expect(types({ etime: new Date('2026-01-01T11:00:00Z') })).toEqual(['certificate_updated', 'ocsp_query_failed']);
    expect(types({ stime: new Date('2026-01-01T11:00:00Z'), etime: new Date('2026-01-01T11:00:00Z') })).toEqual(['ocsp_query_failed']);
    expect(types({ etime: new Date('2026-01-01T12:00:00Z') })).toHaveLength(3);
    expect(types({ stime: new Date('2026-01-01T10:00:00.500Z') })).toEqual(['ocsp_query_failed', 'bdb_created']);
    expect(types({ order: 'desc' })).toEqual(['bdb_created', 'ocsp_query_failed', 'certificate_updated']);
    expect(types({ order: 'desc', offset: 1, limit: 1 })).toEqual(['ocsp_query_failed']);
    expect(types({ offset: 5 })).toEqual([]);
    expect(types({ limit: 0 })).toEqual([]);
  });
});
