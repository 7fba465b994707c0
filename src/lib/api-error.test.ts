// Keeps the README's error-code table exactly as scripts/error-table.mjs renders it from the ERROR_CODES registry.
import { readFileSync } from 'node:fs';
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
});
