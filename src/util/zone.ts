/**
 * Wall-clock time in a time zone, for on-call handoffs ("mon 09:00 Europe/Berlin") and
 * override times written without an offset. A "local" time is the wall clock read as if
 * it were UTC: epoch ms of the same year, month, day, hour and minute. Differences of
 * local times count wall-clock time, so a handoff every day at 09:00 stays at 09:00 across
 * a DST change (that day is 23 or 25 hours long).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** tzProblem tells why a time zone name is not valid, or undefined when it is. */
export function tzProblem(tz: string): string | undefined {
  try {
    formatter(tz);
    return undefined;
  } catch {
    return `unknown time zone "${tz}"; expected an IANA name such as Europe/Berlin, America/New_York or UTC`;
  }
}

/** toLocal is the wall-clock time in tz at instant t (epoch ms), as local ms. */
export function toLocal(t: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const ms = ((t % 1000) + 1000) % 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + ms;
}

/**
 * fromLocal is the instant whose wall-clock time in tz is `local`. A time that occurs twice
 * (autumn) is its first occurrence; a time in the spring-forward gap is moved later by the
 * gap (02:30 becomes 03:30 where 02:00 jumps to 03:00).
 */
export function fromLocal(local: number, tz: string): number {
  const offset1 = toLocal(local, tz) - local;
  let t = local - offset1;
  const offset2 = toLocal(t, tz) - t;
  if (offset2 !== offset1) {
    const t2 = local - offset2;
    // The earlier of two candidates that both read `local` (autumn), else the one that does.
    if (toLocal(t2, tz) === local) t = Math.min(t, t2);
    else if (toLocal(t, tz) !== local) t = local - Math.min(offset1, offset2);
  }
  return t;
}

/** WEEKDAYS are the three-letter names used in handoffs and day lists, Sunday first (Date's getUTCDay). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** DAY_MS is a wall-clock day. */
export const DAY_MS = 86_400_000;
