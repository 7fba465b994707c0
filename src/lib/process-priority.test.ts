import { describe, expect, it } from 'vitest';
import { raisePriority, type PriorityDeps } from './process-priority.js';

/** Node's os.setPriority failure: a SystemError whose errno is in info.code. */
function systemError(errno: string): Error {
  return Object.assign(new Error(`A system error occurred: uv_os_setpriority returned ${errno}`), { code: 'ERR_SYSTEM_ERROR', info: { code: errno } });
}

function fakeDeps(own: number, fail?: (pid: number) => string | undefined): PriorityDeps & { set: Array<[number, number]> } {
  const set: Array<[number, number]> = [];
  return {
    set,
    getPriority: () => own,
    setPriority: (pid, priority) => {
      const errno = fail?.(pid);
      if (errno !== undefined) throw systemError(errno);
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
    expect(raisePriority(100, 5, fakeDeps(-18))).toEqual({ raised: true, priority: -20 });
  });

  it('says why when it may not (no CAP_SYS_NICE) and does not throw', () => {
    const deps = fakeDeps(0, () => 'EACCES');
    expect(raisePriority(100, 5, deps)).toEqual({ raised: false, reason: 'raising a priority needs CAP_SYS_NICE' });
    expect(deps.set).toEqual([]);
  });

  it('goes on past a thread that ended meanwhile', () => {
    const deps = fakeDeps(0, (pid) => (pid === 101 ? 'ESRCH' : undefined));
    expect(raisePriority(100, 5, deps)).toEqual({ raised: true, priority: -5 });
    expect(deps.set).toEqual([
      [100, -5],
      [102, -5],
    ]);
  });
});
