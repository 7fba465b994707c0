import { describe, expect, it } from 'vitest';
import { raisePriority, type PriorityDeps } from './priority.js';

function fakeDeps(own: number, fail?: string): PriorityDeps & { set: Array<[number, number]> } {
  const set: Array<[number, number]> = [];
  return {
    set,
    getPriority: () => own,
    setPriority: (pid, priority) => {
      if (fail !== undefined) throw Object.assign(new Error('operation not permitted'), { code: fail });
      set.push([pid, priority]);
    },
    threads: (pid) => [pid, pid + 1, pid + 2],
  };
}

describe('raisePriority', () => {
  it('sets every thread of the process `boost` nice levels above this process', () => {
    const deps = fakeDeps(0);
    expect(raisePriority(100, 5, deps)).toEqual({ raised: true, priority: -5 });
    expect(deps.set).toEqual([
      [100, -5],
      [101, -5],
      [102, -5],
    ]);
  });

  it('never goes beyond the highest priority', () => {
    const deps = fakeDeps(-18);
    expect(raisePriority(100, 5, deps)).toEqual({ raised: true, priority: -20 });
  });

  it('says why when it may not (no root, no CAP_SYS_NICE) and does not throw', () => {
    const deps = fakeDeps(0, 'EACCES');
    expect(raisePriority(100, 5, deps)).toEqual({ raised: false, reason: 'raising a priority needs root or CAP_SYS_NICE' });
    expect(deps.set).toEqual([]);
  });
});
