import { Cron } from 'croner';
import { formatDuration } from '../util/duration';
export { tzProblem } from '../util/zone';

/**
 * Schedule says when a heartbeat is next expected. `next(after)` is the first deadline
 * strictly after `after` (epoch ms): for a rolling `period`, after + period (MEMon's
 * "rolling"); for a cron `schedule`, the next fire time (MEMon's "fixed"), in `tz`.
 */
export interface Schedule {
  next(after: number): number;
  /** last is the latest deadline at or before `at`, or undefined when there is none. */
  last(at: number): number | undefined;
  describe(): string;
}

/** periodSchedule: rolling deadlines, each `ms` after the previous report. */
export function periodSchedule(ms: number): Schedule {
  return {
    next: (after) => after + ms,
    last: () => undefined,
    describe: () => `every ${formatDuration(ms)}`,
  };
}

/**
 * CRON_OPTIONS: 5 fields (minute precision) or 6 (seconds first), nicknames such as
 * @daily; day-of-month and day-of-week combine with OR as in Vixie cron. Across DST
 * changes croner follows Vixie cron too: a fixed time in the spring-forward gap fires at
 * the first valid time after it, a fixed time that occurs twice fires once, and wildcard
 * jobs (`0 * * * *`) fire on both occurrences of the repeated hour.
 */
export const CRON_OPTIONS = { paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' } as const;

/** cronSchedule: fixed deadlines at a cron expression's fire times, in time zone tz (default UTC). */
export function cronSchedule(expr: string, tz = 'UTC'): Schedule {
  const cron = new Cron(expr, { ...CRON_OPTIONS, timezone: tz });
  return {
    next(after) {
      // croner works in whole seconds: it answers the first fire time after the second
      // `after` falls in, which is strictly after `after` since fire times are whole seconds.
      const d = cron.nextRun(new Date(after));
      return d ? d.getTime() : Infinity;
    },
    last(at) {
      const [d] = cron.previousRuns(1, new Date(at + 1));
      return d?.getTime();
    },
    describe: () => (tz === 'UTC' ? `cron ${expr}` : `cron ${expr} (${tz})`),
  };
}

/** cronProblem tells why a cron expression is not valid, or undefined when it is. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/).length;
  if (!expr.trim().startsWith('@') && fields !== 5 && fields !== 6) {
    return `${fields} field${fields === 1 ? '' : 's'}; give 5 (minute hour day month weekday) or 6 (seconds first)`;
  }
  try {
    const c = new Cron(expr, CRON_OPTIONS);
    if (!c.nextRun()) return 'never fires';
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^Cron\w*: /, '');
  }
}

