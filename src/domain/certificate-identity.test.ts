import { describe, expect, it } from 'vitest';
import { canonicalIp, coversDns } from './certificate-identity.js';
import { sanEntries } from './rfc2253.js';

describe('certificate identity', () => {
  it('lets a wildcard cover one label below it, never a wildcard or two labels', () => {
    expect(coversDns(['*.example.com'], 'a.example.com')).toBe(true);
    expect(coversDns(['*.example.com'], 'A.Example.com.')).toBe(true);
    expect(coversDns(['*.example.com'], 'a.b.example.com')).toBe(false);
    expect(coversDns(['*.example.com'], 'example.com')).toBe(false);
    expect(coversDns(['a.example.com'], '*.example.com')).toBe(false);
    expect(coversDns(['*.example.com'], '*.example.com')).toBe(true);
  });

  it('canonicalizes IP addresses and reads Node SAN strings, quoted values included', () => {
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('FE80:0:0:0:0:0:0:1')).toBe('fe80::1');
    expect(canonicalIp('127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('example.com')).toBeUndefined();
    expect(sanEntries('DNS:a.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:"x\\u002cy"')).toEqual([
      { type: 'DNS', value: 'a.example.com' },
      { type: 'IP Address', value: '127.0.0.1' },
      { type: 'IP Address', value: '0:0:0:0:0:0:0:1' },
      { type: 'DNS', value: 'x,y' },
    ]);
  });
});
