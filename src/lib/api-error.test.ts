// Keeps the README's error-code table exactly as scripts/error-table.mjs renders it from the ERROR_CODES registry.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_CODES, type ErrorCode } from './api-error.js';

function readmeErrorTable(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = /<!-- error-codes:start -->\n([\s\S]*?)<!-- error-codes:end -->/.exec(readme);
  if (section === null) throw new Error('README.md has no error-codes section');
  return section[1]!;
}

/** The table scripts/error-table.mjs writes (npm run docs:errors). */
function renderedTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, { status, text }]) => `| \`${code}\` | ${status} | ${text} |`);
  return ['| error_code | HTTP status | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

function matchesIn(files: string[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe('error code registry', () => {
  it('the README table is exactly the registry (regenerate with npm run docs:errors)', () => {
    expect(readmeErrorTable()).toBe(renderedTable());
  });

  it('gives every code one HTTP error status', () => {
    for (const [code, { status, text }] of Object.entries(ERROR_CODES)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(text, code).not.toBe('');
    }
  });

  it('takes the status and the default description from the registry', () => {
    const error = new ApiError('port_unavailable');
    expect(error.statusCode).toBe(406);
    expect(error.toBody()).toEqual({ error_code: 'port_unavailable', description: ERROR_CODES.port_unavailable.text, message: ERROR_CODES.port_unavailable.text });
    const code: ErrorCode = 'nodes_not_updated';
    expect(new ApiError(code, 'why', { nodes: ['2'] }).toBody()).toMatchObject({ error_code: code, description: 'why', nodes: ['2'] });
    expect(new ApiError(code).statusCode).toBe(409);
  });

  it('is the only place that picks an HTTP status: no call site passes one, the domain carries none', () => {
    expect(matchesIn(sourceFiles(SRC), /new ApiError\(\s*(\d|[a-z.]*status)/i)).toEqual([]);
    expect(matchesIn(sourceFiles(path.join(SRC, 'domain')), /\bstatus: (number|[45]\d\d)\b|_STATUS\b/)).toEqual([]);
  });
});
