// Progress of a long operator command (issue 16.7): while a request waits (e.g. for every node to apply a
// certificate), a spinner with the elapsed seconds on stderr when stderr is a terminal; nothing otherwise, so
// scripts and pipes see only the command's own output. The line is erased when the work ends.

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Nothing is shown for work that ends sooner (most requests). */
  delayMs?: number;
  intervalMs?: number;
  now?: () => number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR_LINE = '\r\u001b[K';

/** The spinner line after `elapsedMs`: `⠙ waiting for every node to apply (3 s)`. */
export function progressLine(label: string, elapsedMs: number, frame: number): string {
  return `${CLEAR_LINE}${FRAMES[frame % FRAMES.length]} ${label} (${Math.floor(elapsedMs / 1000)} s)`;
}

/** Runs `work`, showing `label` with a spinner on `stream` while it lasts (terminals only). */
export async function withProgress<T>(label: string, work: () => Promise<T>, stream: ProgressStream | undefined, options: ProgressOptions = {}): Promise<T> {
  if (stream?.isTTY !== true) return work();
  const now = options.now ?? Date.now;
  const started = now();
  let frame = 0;
  let shown = false;
  const tick = (): void => {
    shown = true;
    stream.write(progressLine(label, now() - started, frame++));
  };
  let interval: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    tick();
    interval = setInterval(tick, options.intervalMs ?? 120);
    interval.unref();
  }, options.delayMs ?? 300);
  delay.unref();
  try {
    return await work();
  } finally {
    clearTimeout(delay);
    if (interval !== undefined) clearInterval(interval);
    if (shown) stream.write(CLEAR_LINE);
  }
}
