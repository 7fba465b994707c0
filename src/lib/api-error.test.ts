// Keeps the README's error-code table and the ERROR_CODES registry in step, both ways.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './api-error.js';

function readmeErrorCodes(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = /<!-- error-codes:start -->([\s\S]*?)<!-- error-codes:end -->/.exec(readme);
  if (section === null) throw new Error('README.md has no error-codes section');
  return [...section[1]!.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!);
}

describe('error code registry', () => {
  it('lists exactly the registry codes in the README table', () => {
    expect([...readmeErrorCodes()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
