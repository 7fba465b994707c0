import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CERTPLANE_VERSION } from './version.js';

describe('CERTPLANE_VERSION', () => {
  it('equals the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CERTPLANE_VERSION).toBe(pkg.version);
  });
});
