// The process logger (pino, as Fastify uses). Credentials and key material are redacted wherever they
// might appear, even if a later change starts logging bodies or headers.
import { pino, type Logger } from 'pino';

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
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination as never);
}
