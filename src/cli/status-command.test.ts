import { describe, expect, it } from 'vitest';
import { formatCertificates, levelOf, wantsColor, type CertificateRow } from './status-command.js';

const DAY = 86_400_000;
const now = new Date('2026-06-01T00:00:00Z');
const row = (name: string, days: number, thresholdDays = 45): CertificateRow => ({ name, notAfter: new Date(now.getTime() + days * DAY), subjectCn: 'cluster.local', issuer: 'Example CA', thresholdDays });

describe('certplane status', () => {
  it('levels: ok above the threshold, warning within it, critical under 7 days or expired', () => {
    expect(levelOf(row('a', 46), now)).toBe('ok');
    expect(levelOf(row('a', 45), now)).toBe('warning');
    expect(levelOf(row('a', 7), now)).toBe('warning');
    expect(levelOf(row('a', 6.9), now)).toBe('critical');
    expect(levelOf(row('a', -1), now)).toBe('critical');
    expect(levelOf(row('a', 20, 10), now)).toBe('ok');
  });

  it('prints an aligned table, coloured only when asked, with the worst level', () => {
    const rows = [row('api', 364), row('syncer', 20), row('proxy', 3), row('old', -2)];
    const plain = formatCertificates(rows, now, false);
    expect(plain.level).toBe('critical');
    expect(plain.text).not.toContain('\u001b[');
    const lines = plain.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CERTIFICATE\s+DAYS LEFT\s+EXPIRES \(UTC\)\s+STATE\s+SUBJECT CN\s+ISSUER$/);
    expect(lines[1]).toMatch(/^api\s+364\s+2027-05-31 00:00\s+ok\s+cluster\.local\s+Example CA$/);
    expect(lines[2]).toMatch(/^syncer\s+20\s+.*expires soon \(<= 45 d\)/);
    expect(lines[3]).toMatch(/^proxy\s+3\s+.*EXPIRES \(<= 7 d\)/);
    expect(lines[4]).toMatch(/^old\s+-2\s+.*EXPIRED/);
    // Columns line up: the issuer starts at the same offset on every line.
    expect(new Set(lines.map((l) => l.indexOf(l.startsWith('CERT') ? 'ISSUER' : 'Example CA'))).size).toBe(1);
    const coloured = formatCertificates(rows, now, true).text.split('\n');
    expect(coloured[1]).toContain('\u001b[32m364\u001b[0m');
    expect(coloured[2]).toContain('\u001b[33m20\u001b[0m');
    expect(coloured[3]).toContain('\u001b[31m3\u001b[0m');
    expect(coloured[4]).toContain('\u001b[31mEXPIRED\u001b[0m');
    expect(formatCertificates([row('api', 364)], now, false).level).toBe('ok');
    expect(formatCertificates([row('api', 364), row('syncer', 30)], now, false).level).toBe('warning');
  });

  it('colours on a terminal unless NO_COLOR is set; FORCE_COLOR forces it', () => {
    expect(wantsColor({}, true)).toBe(true);
    expect(wantsColor({}, false)).toBe(false);
    expect(wantsColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(wantsColor({ NO_COLOR: '' }, true)).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '0' }, false)).toBe(false);
    expect(wantsColor({ FORCE_COLOR: '1', NO_COLOR: '1' }, true)).toBe(false);
  });
});
