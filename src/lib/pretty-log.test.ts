// The terminal log format (issue 16.7): readable lines, errors with their stack, redaction kept, and the
// choice between JSON and readable lines.
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { formatLogLine } from './pretty-log.js';
import { createLogger, resolveLogFormat, wantsColors } from './logger.js';

const time = new Date(2026, 0, 31, 9, 5, 7, 42).getTime();

function collect(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('formatLogLine', () => {
  it('shows time, level, part, message and the other fields as key=value', () => {
    const line = JSON.stringify({ level: 30, time, pid: 7, hostname: 'h', part: 'api', msg: 'request', method: 'GET', status: 200, url: '/v1/bootstrap' });
    expect(formatLogLine(`${line}\n`, { colors: false })).toBe('09:05:07.042 INFO  [api] request method=GET status=200 url=/v1/bootstrap\n');
  });

  it('quotes strings with spaces, writes objects as JSON, and names each level', () => {
    const line = JSON.stringify({ level: 40, time, msg: 'slow', reason: 'took too long', nodes: ['1', '2'], detail: { a: 1 } });
    expect(formatLogLine(line, { colors: false })).toBe('09:05:07.042 WARN  slow reason="took too long" nodes=["1","2"] detail={"a":1}\n');
    expect(formatLogLine(JSON.stringify({ level: 50, time, msg: 'x' }), { colors: false })).toContain(' ERROR x');
    expect(formatLogLine(JSON.stringify({ level: 20, time, msg: 'x' }), { colors: false })).toContain(' DEBUG x');
  });

  it('puts an error’s stack under the line, indented', () => {
    const line = JSON.stringify({ level: 50, time, msg: 'request failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)' } });
    expect(formatLogLine(line, { colors: false })).toBe('09:05:07.042 ERROR request failed\n    Error: boom\n        at f (a.js:1:1)\n');
  });

  it('colors the level only when asked, and passes a line that is not JSON through', () => {
    expect(formatLogLine(JSON.stringify({ level: 30, time, msg: 'm' }), { colors: true })).toContain('\u001b[32mINFO \u001b[0m');
    expect(formatLogLine(JSON.stringify({ level: 30, time, msg: 'm' }), { colors: false })).not.toContain('\u001b[');
    expect(formatLogLine('plain text', { colors: false })).toBe('plain text\n');
  });
});

describe('log format', () => {
  it('is readable on a terminal and JSON otherwise, unless asked for one', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('uses colors only on a terminal without NO_COLOR', () => {
    expect(wantsColors({ isTTY: true }, {})).toBe(true);
    expect(wantsColors({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColors({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(wantsColors({}, {})).toBe(false);
  });

  it('writes readable lines that still redact keys and passwords', () => {
    const out = collect();
    const log = createLogger('info', out.stream, 'pretty');
    log.info({ body: { password: 'hunter2-secret', key: `${'-'.repeat(5)}BEGIN PRIVATE KEY${'-'.repeat(5)}` }, part: 'api' }, 'request received');
    expect(out.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[api\] request received body=\{"password":"\[redacted\]","key":"\[redacted\]"\}\n$/);
    expect(out.text()).not.toContain('hunter2');
  });

  it('writes JSON lines by default', () => {
    const out = collect();
    createLogger('info', out.stream).info({ part: 'api' }, 'hello');
    const parsed = JSON.parse(out.text()) as { msg: string; part: string; level: number };
    expect(parsed).toMatchObject({ msg: 'hello', part: 'api', level: 30 });
  });
});
