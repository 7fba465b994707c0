import { describe, expect, it } from 'vitest';
import { checkIdentifiers, dnsChallengeRecordName, renewalInfoRecheckMs, renewalInsideWindow, retryDelayMs, twoThirdsRenewal } from './acme.js';

describe('ACME schedule rules', () => {
  it('renews at two thirds of the lifetime', () => {
    expect(twoThirdsRenewal(new Date('2026-01-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
  });

  it('picks a time inside the renewal window, now for a window already over, nothing for a broken one', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    expect(renewalInsideWindow({ start: '2026-01-20T00:00:00Z', end: '2026-01-22T00:00:00Z' }, now, 0.5)?.toISOString()).toBe('2026-01-21T00:00:00.000Z');
    expect(renewalInsideWindow({ start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' }, now, 0.5)).toEqual(now);
    expect(renewalInsideWindow({ start: '2026-01-05T00:00:00Z', end: '2026-01-11T00:00:00Z' }, now, 0)).toEqual(now);
    expect(renewalInsideWindow({ start: 'x', end: '2026-01-02T00:00:00Z' }, now, 0.5)).toBeUndefined();
    expect(renewalInsideWindow({ start: '2026-01-22T00:00:00Z', end: '2026-01-20T00:00:00Z' }, now, 0.5)).toBeUndefined();
  });

  it('doubles the retry delay per failure up to the maximum', () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(n, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(renewalInfoRecheckMs(1)).toBe(60_000);
    expect(renewalInfoRecheckMs(10 * 86_400)).toBe(86_400_000);
    expect(renewalInfoRecheckMs(undefined)).toBe(6 * 3_600_000);
  });

  it('checks identifiers: DNS names and IPs, wildcards only with dns-01', () => {
    expect(checkIdentifiers(['API.Example.com.', '127.0.0.1', '::1', 'api.example.com'], 'http-01')).toEqual({
      ok: true,
      identifiers: [
        { type: 'dns', value: 'api.example.com' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ],
    });
    expect(checkIdentifiers(['*.example.com'], 'http-01').ok).toBe(false);
    expect(checkIdentifiers(['*.example.com'], 'dns-01').ok).toBe(true);
    expect(checkIdentifiers([], 'dns-01').ok).toBe(false);
    for (const bad of ['a b', '-x.com', 'x..com', '*.com', 'a.*.com', 'x'.repeat(64) + '.com']) expect(checkIdentifiers([bad], 'dns-01').ok).toBe(false);
    expect(dnsChallengeRecordName('*.example.com')).toBe('_acme-challenge.example.com');
  });
});
