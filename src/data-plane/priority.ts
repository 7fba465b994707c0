// The data plane's CPU priority (README "Data plane"): its processes run a few nice levels above the node that
// starts them, so control-plane work (API requests, certificate checks, OCSP, the UI) yields to database traffic
// when the CPU is short. Raising a priority needs root or CAP_SYS_NICE; without it a process keeps the node's
// priority and the caller logs why.
import { readdirSync } from 'node:fs';
import os from 'node:os';

export type PriorityResult = { raised: true; priority: number } | { raised: false; reason: string };

export interface PriorityDeps {
  getPriority: (pid?: number) => number;
  setPriority: (pid: number, priority: number) => void;
  /** The threads of a process (Linux nice values are per thread; threads started later inherit the main thread's). */
  threads: (pid: number) => number[];
}

const systemDeps: PriorityDeps = {
  getPriority: (pid) => os.getPriority(pid),
  setPriority: (pid, priority) => os.setPriority(pid, priority),
  threads: (pid) => {
    try {
      return readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      return [pid];
    }
  },
};

/** Gives process `pid` (every thread it has now) a priority `boost` nice levels above this process's. */
export function raisePriority(pid: number, boost: number, deps: PriorityDeps = systemDeps): PriorityResult {
  const priority = Math.max(os.constants.priority.PRIORITY_HIGHEST, deps.getPriority() - boost);
  try {
    deps.setPriority(pid, priority);
    for (const tid of deps.threads(pid)) if (tid !== pid) deps.setPriority(tid, priority);
    return { raised: true, priority };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // EACCES/EPERM: no privilege; ESRCH: a thread (or the process) ended meanwhile.
    return { raised: false, reason: code === 'EACCES' || code === 'EPERM' ? 'raising a priority needs root or CAP_SYS_NICE' : `${code} ${(error as Error).message}`.trim() };
  }
}
