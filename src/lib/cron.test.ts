import { describe, expect, it } from 'vitest';
import { checkCronExpression, nextCronTime } from './cron.js';

describe('cron expressions', () => {
  it.each(['0 * * * *', '*/5 * * * *', '* * * * * *', '0 3 * * 1-5', '@hourly'])('accepts %s', (expression) => {
    expect(checkCronExpression(expression)).toEqual({ ok: true });
  });

  it.each(['', 'bogus', '* * *', '61 * * * *', '* 25 * * *', '0 0 31 2 *'])('refuses %j with a reason', (expression) => {
    const check = checkCronExpression(expression);
    expect(check.ok).toBe(false);
  });

  it('gives the next firing strictly after a time, in UTC', () => {
    expect(nextCronTime('0 * * * *', new Date('2026-01-01T10:00:00Z'))).toEqual(new Date('2026-01-01T11:00:00Z'));
    expect(nextCronTime('30 2 * * *', new Date('2026-01-01T10:00:00Z'))).toEqual(new Date('2026-01-02T02:30:00Z'));
    expect(nextCronTime('* * * * * *', new Date('2026-01-01T10:00:00.400Z'))).toEqual(new Date('2026-01-01T10:00:01Z'));
    expect(nextCronTime('not a cron', new Date())).toBeUndefined();
  });
});
