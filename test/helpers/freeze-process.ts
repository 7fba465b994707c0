// SIGSTOP that has taken effect. kill() returns once the signal is queued; a busy multi-threaded process (etcd,
// a node) can still answer a request that arrives in the next instant. freezeProcess() returns only when every
// thread of the process shows the stopped state in /proc, so what the test sends next meets a frozen process.
import { readdir, readFile } from 'node:fs/promises';

export async function freezeProcess(pid: number, timeoutMs = 5000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  while (!(await allThreadsStopped(pid))) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function allThreadsStopped(pid: number): Promise<boolean> {
  const tasks = await readdir(`/proc/${pid}/task`);
  for (const task of tasks) {
    const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => '');
    // The state is the first field after the parenthesised command name, which may itself hold spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== '' && state !== 'T' && state !== 't') return false;
  }
  return true;
}
