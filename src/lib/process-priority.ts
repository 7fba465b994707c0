// CPU priority of the processes on the database path (README "Data plane"): the data-plane processes and the
// redis-servers run a few nice levels above the node that starts them, so control-plane work (API requests,
// certificate checks, OCSP, the UI) yields to database traffic when the CPU is short. Raising a priority needs
// CAP_SYS_NICE (root has it unless a container drops it); without it a process keeps the node's priority and the
// caller logs why.
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

/** The errno of a failed os.setPriority (Node's SystemError carries it in `info.code`). */
function errnoOf(error: unknown): string {
  const e = error as { code?: string; info?: { code?: string } };
  return e.info?.code ?? e.code ?? '';
}

/** Gives process `pid` (every thread it has now) a priority `boost` nice levels above this process's. */
export function raisePriority(pid: number, boost: number, deps: PriorityDeps = systemDeps): PriorityResult {
  const priority = Math.max(os.constants.priority.PRIORITY_HIGHEST, deps.getPriority() - boost);
  try {
    deps.setPriority(pid, priority);
  } catch (error) {
    const errno = errnoOf(error);
    return { raised: false, reason: errno === 'EACCES' || errno === 'EPERM' ? 'raising a priority needs CAP_SYS_NICE' : `${errno} ${(error as Error).message}`.trim() };
  }
  for (const tid of deps.threads(pid)) {
    if (tid === pid) continue;
    try {
      deps.setPriority(tid, priority);
    } catch {
      // A thread that ended meanwhile; threads started from now on inherit the main thread's priority.
    }
  }
  return { raised: true, priority };
}
