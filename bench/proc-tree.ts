// CPU time, resident memory and open files of a process and all its descendants, read from /proc (Linux).
// The benchmarks measure "certplane" as the node process plus every process it started (a data plane in its own
// processes included), except the database backends: redis-server and whatever it forks (BGSAVE children) are
// the same for every proxy compared, so their subtrees are left out. The tree is read afresh on every call, so
// processes started or restarted during a run count from the moment they exist.
import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux build that matters). */
const TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime in microseconds. */
  cpuUs: number;
  rssBytes: number;
  /** The nice value of its main thread. */
  nice: number;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields after the comm: state(3) ppid(4) ... utime(14) stime(15) ... nice(19) ... rss(24), numbered as in proc(5).
    const fields = stat.slice(close + 2).split(' ');
    const field = (n: number): number => Number(fields[n - 3]);
    return { pid, ppid: field(4), comm, cpuUs: ((field(14) + field(15)) * 1_000_000) / TICKS_PER_SECOND, rssBytes: field(24) * PAGE_SIZE, nice: field(19) };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Whether a process (and its subtree) is a database backend, not part of the proxy measured. */
export function isBackend(comm: string): boolean {
  return comm.startsWith('redis-');
}

/** The root and its descendants (backends and their subtrees left out), as they are now. */
export async function processTree(root: number, exclude: (comm: string) => boolean = isBackend): Promise<ProcStat[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = (await Promise.all(pids.map(readStat))).filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const rootStat = stats.find((s) => s.pid === root);
  if (rootStat === undefined) throw new Error(`process ${root} is not running`);
  const tree: ProcStat[] = [];
  const queue = [rootStat];
  while (queue.length > 0) {
    const next = queue.shift() as ProcStat;
    if (next !== rootStat && exclude(next.comm)) continue;
    tree.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

/** CPU microseconds (user + system) the tree has used so far. */
export async function treeCpuMicros(root: number): Promise<number> {
  return (await processTree(root)).reduce((sum, s) => sum + s.cpuUs, 0);
}

/** Resident memory of the tree, bytes (the sum of each process's RSS). */
export async function treeRssBytes(root: number): Promise<number> {
  return (await processTree(root)).reduce((sum, s) => sum + s.rssBytes, 0);
}

export interface FileUse {
  pid: number;
  comm: string;
  open: number;
  /** Soft RLIMIT_NOFILE of that process. */
  limit: number;
}

/** Open files and the open-file limit of every process of the tree. */
export async function treeFileUse(root: number): Promise<FileUse[]> {
  const tree = await processTree(root);
  const uses = await Promise.all(
    tree.map(async (s): Promise<FileUse | undefined> => {
      try {
        const [fds, limits] = await Promise.all([readdir(`/proc/${s.pid}/fd`), readFile(`/proc/${s.pid}/limits`, 'utf8')]);
        const line = limits.split('\n').find((l) => l.startsWith('Max open files')) ?? '';
        const soft = line.replace('Max open files', '').trim().split(/\s+/)[0] ?? '';
        return { pid: s.pid, comm: s.comm, open: fds.length, limit: soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft) };
      } catch {
        return undefined;
      }
    }),
  );
  return uses.filter((u): u is FileUse => u !== undefined);
}

/** The load average as "1m 5m 15m". */
export async function loadAverage(): Promise<string> {
  const text = await readFile('/proc/loadavg', 'utf8');
  return text.split(' ').slice(0, 3).join(' ');
}
