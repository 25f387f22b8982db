import { Cron } from 'croner';
import { CRON_OPTIONS } from '../heartbeat/schedule';
import { CronWindow } from './types';

/** An active run longer than this many units is looked at again at its end (bounds one search). */
const LOOKAHEAD_UNITS = 1440;

/**
 * ActiveWindow is an SLA's `during` as a window (dwmon's CHECKHOURS, CHECKMINUTES,
 * WEEKDAYS and WEEKENDS in one cron): a minute whose start matches the cron, in its time
 * zone, is active (a second, for a cron of 6 fields). `* 8-20 * * 1-5` in Europe/Berlin is
 * 08:00 to 21:00 Berlin time on weekdays, whatever the offset that day; in the hour that a
 * DST change repeats, both occurrences of a matching minute are active, and minutes the
 * change skips do not exist.
 *
 * Answers are kept per span, so the SLAs sharing a window (the set keeps one per cron
 * and zone) cost one search per change, not one each. The cron and zone are checked by
 * the config (cronProblem, tzProblem in src/heartbeat/schedule.ts); croner throws here
 * otherwise.
 */
export class ActiveWindow {
  private readonly cron: Cron;
  private readonly unit: number;
  private spanStart = Infinity;
  private spanEnd = -Infinity;
  private spanActive = false;

  constructor(readonly w: CronWindow) {
    this.cron = new Cron(w.cron, { ...CRON_OPTIONS, timezone: w.tz ?? 'UTC' });
    this.unit = w.cron.trim().split(/\s+/).length === 6 ? 1000 : 60_000;
  }

  /** isActive says whether time t (epoch ms) is in the window. */
  isActive(t: number): boolean {
    this.span(t);
    return this.spanActive;
  }

  /**
   * changeAfter is the first time after t where isActive may differ from isActive(t): the
   * end of the active run or the next fire time (Infinity when the cron never fires again).
   * A run longer than a day is looked at again a day on.
   */
  changeAfter(t: number): number {
    this.span(t);
    return this.spanEnd;
  }

  /** describe names the window for messages: `cron * 8-20 * * 1-5 (Europe/Berlin)`. */
  describe(): string {
    const tz = this.w.tz ?? 'UTC';
    return tz === 'UTC' ? `cron ${this.w.cron}` : `cron ${this.w.cron} (${tz})`;
  }

  private span(t: number): void {
    if (t >= this.spanStart && t < this.spanEnd) return;
    const u = this.unit;
    const start = Math.floor(t / u) * u;
    this.spanStart = start;
    this.spanActive = this.cron.match(new Date(start));
    if (this.spanActive) {
      let end = start + u;
      for (let i = 1; i < LOOKAHEAD_UNITS && this.cron.match(new Date(end)); i++) end += u;
      this.spanEnd = end;
    } else {
      // croner answers the first fire time after the second `start` falls in.
      this.spanEnd = this.cron.nextRun(new Date(start))?.getTime() ?? Infinity;
    }
  }
}

/**
 * SlotSchedule is an SLA's `during` as slots: each fire time of the cron is a slot at
 * which the test is evaluated (dwmon's scheduled count checks). Across DST changes it
 * follows croner (see CRON_OPTIONS): `0 * * * *` fires every real hour, on both
 * occurrences of a repeated hour; a fixed time in the skipped hour fires at the first
 * valid time after it.
 */
export class SlotSchedule {
  private readonly cron: Cron;
  private memoAfter = NaN;
  private memoNext = NaN;
  private missedKey = '';
  private missedMemo?: Missed;

  constructor(readonly w: CronWindow) {
    this.cron = new Cron(w.cron, { ...CRON_OPTIONS, timezone: w.tz ?? 'UTC' });
  }

  /** next is the first slot strictly after `after` (Infinity: none). */
  next(after: number): number {
    if (after === this.memoAfter) return this.memoNext;
    // croner works in whole seconds and answers strictly after the second `after` is in.
    const next = this.cron.nextRun(new Date(after))?.getTime() ?? Infinity;
    this.memoAfter = after;
    this.memoNext = next;
    return next;
  }

  /**
   * missed lists the slots s with after < s <= upTo, oldest first, at most `max` of them:
   * when there are more, the newest `max` are kept and `skipped` names the range left out.
   * SLAs of one schedule down over the same outage share the answer.
   */
  missed(after: number, upTo: number, max: number): Missed {
    const key = `${after} ${upTo} ${max}`;
    if (key === this.missedKey && this.missedMemo) return this.missedMemo;
    const slots: number[] = [];
    for (let s = this.next(after); s <= upTo && slots.length <= max; s = this.next(s)) slots.push(s);
    let out: Missed = { slots };
    if (slots.length > max) {
      const kept = this.cron.previousRuns(max, new Date(upTo + 1)).map((d) => d.getTime()).reverse();
      const before = this.cron.previousRuns(1, new Date(kept[0]))[0]?.getTime() ?? slots[0];
      out = { slots: kept, skipped: { from: slots[0], to: before } };
    }
    this.missedKey = key;
    this.missedMemo = out;
    return out;
  }
}

/** Missed: slots to evaluate, and the oldest ones left out when there were more than the bound. */
export interface Missed {
  slots: number[];
  skipped?: { from: number; to: number };
}
