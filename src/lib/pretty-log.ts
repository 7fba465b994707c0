// Human-readable log lines for a terminal (issue 16.7): one pino JSON line in, one short line out,
// `12:03:04.120 INFO  [api] request method=GET url=/v1/bootstrap status=200`, errors with their stack below.
// Written here instead of pino-pretty: ~80 lines, no dependency, synchronous (nothing lost at exit), and it
// formats lines pino has already redacted, so it never sees a key or a password.

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '\u001b[90m' },
  20: { label: 'DEBUG', color: '\u001b[36m' },
  30: { label: 'INFO ', color: '\u001b[32m' },
  40: { label: 'WARN ', color: '\u001b[33m' },
  50: { label: 'ERROR', color: '\u001b[31m' },
  60: { label: 'FATAL', color: '\u001b[35m' },
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
/** pino's fields that the line shows in its own place, or that a person at a terminal does not need. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'part', 'err']);

export interface PrettyOptions {
  /** ANSI colors (a color terminal without NO_COLOR). */
  colors: boolean;
}

function clock(time: unknown): string {
  if (typeof time !== 'number') return '--:--:--.---';
  const d = new Date(time);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `key=value`; strings with spaces or quotes quoted, objects as compact JSON. */
function field(key: string, value: unknown): string {
  if (typeof value === 'string') return `${key}=${/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`;
  return `${key}=${JSON.stringify(value) ?? String(value)}`;
}

function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '';
  const { stack, message, type } = err as { stack?: unknown; message?: unknown; type?: unknown };
  const text = typeof stack === 'string' ? stack : `${typeof type === 'string' ? type : 'Error'}: ${String(message)}`;
  return `\n${text.split('\n').map((line) => `    ${line}`).join('\n')}`;
}

/** One pino JSON line as a readable line (with a trailing newline); a line that is not JSON is passed through. */
export function formatLogLine(line: string, options: PrettyOptions): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (typeof entry !== 'object' || entry === null) return `${line.trimEnd()}\n`;
  const level = LEVELS[typeof entry.level === 'number' ? entry.level : 30] ?? { label: String(entry.level), color: '' };
  const paint = (color: string, text: string): string => (options.colors && color !== '' ? `${color}${text}${RESET}` : text);
  const part = typeof entry.part === 'string' ? `${paint(DIM, `[${entry.part}]`)} ` : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !SHOWN_APART.has(key) && value !== undefined)
    .map(([key, value]) => field(key, value));
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  const rest = fields.length > 0 ? ` ${paint(DIM, fields.join(' '))}` : '';
  return `${paint(DIM, clock(entry.time))} ${paint(level.color, level.label)} ${part}${message}${rest}${errorText(entry.err)}\n`;
}

/** A pino destination that writes each line formatted to `out`. */
export function prettyDestination(out: NodeJS.WritableStream, options: PrettyOptions): { write(line: string): boolean } {
  return { write: (line: string) => out.write(formatLogLine(line, options)) };
}
