// The process logger (pino, as Fastify uses). Credentials and key material are redacted wherever they
// might appear, even if a later change starts logging bodies or headers. JSON lines, or readable lines for a
// person at a terminal (src/lib/pretty-log.ts; README "Log output").
import { pino, type Logger } from 'pino';
import { prettyDestination } from './pretty-log.js';

/** `auto`: readable lines when stdout is a terminal, JSON lines otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];
export type LogFormat = Exclude<LogFormatSetting, 'auto'>;

export function isLogFormatSetting(value: string): value is LogFormatSetting {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

export function resolveLogFormat(setting: LogFormatSetting, stdoutIsTty: boolean): LogFormat {
  if (setting !== 'auto') return setting;
  return stdoutIsTty ? 'pretty' : 'json';
}

/** Colors on a terminal unless NO_COLOR is set (no-color.org) or TERM is dumb. */
export function wantsColors(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'body.key',
  'body.password',
  'body.new_password',
  'body.old_password',
  'body.certificates[*].key',
  'key',
  'password',
  '*.key',
  '*.password',
  '*.private_key',
  // Alert delivery secrets (PUT /v1/cluster smtp_password, alert_webhook.secret).
  'body.smtp_password',
  'body.alert_webhook.secret',
  'smtp_password',
  '*.smtp_password',
];

/**
 * Where log lines written by another process (the data plane sends pino JSON lines) go in this process's format:
 * formatted like this process's own lines on a terminal, JSON lines otherwise.
 */
export function logLineWriter(format: LogFormat, out: NodeJS.WritableStream = process.stdout): (line: string) => void {
  if (format === 'json') return (line) => void out.write(line);
  const pretty = prettyDestination(out, { colors: wantsColors(out as { isTTY?: boolean }, process.env) });
  return (line) => void pretty.write(line);
}

export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (format === 'pretty') {
    const out = destination ?? process.stdout;
    return pino(options, prettyDestination(out, { colors: wantsColors(out as { isTTY?: boolean }, process.env) }) as never);
  }
  return destination === undefined ? pino(options) : pino(options, destination as never);
}
