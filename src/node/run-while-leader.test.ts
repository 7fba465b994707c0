import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from 'pino';
import { runWhileLeader, type LeaderTask, type Leadership } from './run-while-leader.js';

class FakeLeadership implements Leadership {
  leader = false;
  private readonly listeners = new Set<(isLeader: boolean) => void>();
  isLeader(): boolean {
    return this.leader;
  }
  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  fence() {
    return { key: '/leader', target: 'value' as const, op: '==' as const, value: 'me' };
  }
  set(isLeader: boolean): void {
    this.leader = isLeader;
    for (const listener of this.listeners) listener(isLeader);
  }
}

describe('runWhileLeader', () => {
  let events: string[];
  let failStarts: number;
  let errors: string[];
  const log = { error: (_fields: object, message: string) => errors.push(message) } as unknown as Logger;
  const create = (): LeaderTask => {
    const id = events.filter((e) => e.startsWith('create')).length + 1;
    events.push(`create ${id}`);
    return {
      start: async () => {
        if (failStarts > 0) {
          failStarts -= 1;
          throw new Error('store down');
        }
        events.push(`start ${id}`);
      },
      close: async () => void events.push(`close ${id}`),
    };
  };

  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    errors = [];
    failStarts = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the task when leadership is won, closes it when it is lost, and again on the closer', async () => {
    const leadership = new FakeLeadership();
    const stop = runWhileLeader(leadership, create, log, 'task');
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual([]);
    leadership.set(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['create 1', 'start 1']);
    leadership.set(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['create 1', 'start 1', 'close 1']);
    leadership.set(true);
    await vi.advanceTimersByTimeAsync(0);
    await stop();
    expect(events).toEqual(['create 1', 'start 1', 'close 1', 'create 2', 'start 2', 'close 2']);
    leadership.set(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toHaveLength(6);
  });

  it('logs a task that cannot start, closes it, and starts a new one after 5 s while still the leader', async () => {
    const leadership = new FakeLeadership();
    leadership.leader = true;
    failStarts = 1;
    const stop = runWhileLeader(leadership, create, log, 'task');
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['create 1', 'close 1']);
    expect(errors).toEqual(['task could not start; retrying']);
    await vi.advanceTimersByTimeAsync(4999);
    expect(events).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual(['create 1', 'close 1', 'create 2', 'start 2']);
    await stop();
  });

  it('does not restart a failed task once leadership is gone, nor after the closer', async () => {
    const leadership = new FakeLeadership();
    leadership.leader = true;
    failStarts = 2;
    const stop = runWhileLeader(leadership, create, log, 'task');
    await vi.advanceTimersByTimeAsync(0);
    leadership.set(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toEqual(['create 1', 'close 1']);
    await stop();
    leadership.set(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toEqual(['create 1', 'close 1']);
  });
});
