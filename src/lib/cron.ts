// Cron expressions (the job scheduler's cron_expression): parsing and the next firing time, through croner.
// Five fields (minute hour day month weekday, as RS documents) or six (a leading seconds field), in UTC.
import { Cron } from 'croner';

export type CronCheck = { ok: true } | { ok: false; error: string };

/** Whether croner accepts the expression and it fires at least once more (an expression that never fires is refused). */
export function checkCronExpression(expression: string): CronCheck {
  try {
    const cron = new Cron(expression, { paused: true, timezone: 'UTC' });
    const next = cron.nextRun(new Date());
    cron.stop();
    return next === null ? { ok: false, error: 'the expression never fires' } : { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The first firing strictly after `after`, or undefined for an expression that does not parse or never fires. */
export function nextCronTime(expression: string, after: Date): Date | undefined {
  try {
    const cron = new Cron(expression, { paused: true, timezone: 'UTC' });
    const next = cron.nextRun(after);
    cron.stop();
    return next ?? undefined;
  } catch {
    return undefined;
  }
}
