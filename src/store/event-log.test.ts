import { describe, expect, it } from 'vitest';
import { eventPutOp } from './event-log.js';
import { keys } from './keys.js';

describe('eventPutOp', () => {
  it('keys an event under the event log by its time, unique per write, in the order given', () => {
    const event = { time: '2026-01-02T03:04:05.678Z', type: 'x' };
    const [a, b] = [eventPutOp(event), eventPutOp(event)];
    expect(a.type).toBe('put');
    expect(a.key.startsWith(`${keys.eventPrefix}${event.time}-`)).toBe(true);
    expect(a.key).not.toBe(b.key);
    expect(JSON.parse(a.value)).toEqual(event);
    const ordered = Array.from({ length: 12 }, (_, i) => eventPutOp(event, i).key);
    expect([...ordered].sort()).toEqual(ordered);
  });
});
