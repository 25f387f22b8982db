import { formatDuration } from '../util/duration';
import { RollingCounts } from './buckets';
import { BurnAlert, FAIL, Objective, Outcome, PASS, UNKNOWN } from './types';

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * DEFAULT_BURN_ALERTS are the SRE workbook's multi-window burn-rate alerts for a 30-day
 * objective: fast (2% of the budget in an hour), slow (5% in 6 hours), ticket (10% in 3
 * days), each also over a short window so it stops soon after the burn stops. Most severe first.
 */
export const DEFAULT_BURN_ALERTS: readonly BurnAlert[] = [
  { name: 'fast', factor: 14.4, longMs: HOUR, shortMs: 5 * MINUTE },
  { name: 'slow', factor: 6, longMs: 6 * HOUR, shortMs: 30 * MINUTE },
  { name: 'ticket', factor: 1, longMs: 72 * HOUR, shortMs: 6 * HOUR },
];

/** Windows up to this long are counted per minute; longer ones (and the objective's) per hour. */
const FINE_SPAN_MS = 6 * HOUR;

/** A window: which ring, and which of its windows. */
interface Win {
  counts: RollingCounts;
  j: number;
  ms: number;
}

/**
 * Slo keeps an objective: good and bad evaluations (unknown ones are not counted) in
 * per-minute buckets over the alerts' short windows (up to 6 h) and per-hour buckets over
 * the objective's window and longer alert windows: ~17 KB for a 30-day objective whatever
 * the rate. It gives the error budget left (1 − bad fraction / (1 − target); negative once
 * overspent) and which burn-rate alert holds: burn rate (bad fraction / (1 − target)) above
 * the alert's factor over both its windows. A window reaches back a whole number of
 * buckets, the one filling included.
 */
export class Slo {
  private readonly fine?: RollingCounts;
  private readonly coarse: RollingCounts;
  private readonly long: Win[] = [];
  private readonly short: Win[] = [];
  private readonly budget: Win;
  readonly alerts: readonly BurnAlert[];
  private readonly allowed: number;
  /** The alert that held at the last check (index in alerts), or -1. */
  firing = -1;

  constructor(readonly objective: Objective) {
    this.alerts = objective.burn ?? DEFAULT_BURN_ALERTS;
    this.allowed = 1 - objective.target;
    const fineMs = new Set<number>();
    const coarseMs = new Set<number>([objective.windowMs]);
    const fineOf = (ms: number): boolean => ms <= FINE_SPAN_MS && ms % MINUTE === 0;
    for (const a of this.alerts) for (const ms of [a.longMs, a.shortMs]) (fineOf(ms) ? fineMs : coarseMs).add(ms);
    const fineList = [...fineMs];
    const coarseList = [...coarseMs];
    const buckets = (ms: number, width: number): number => Math.max(1, Math.ceil(ms / width));
    if (fineList.length > 0) {
      const ws = fineList.map((ms) => buckets(ms, MINUTE));
      this.fine = new RollingCounts(MINUTE, Math.max(...ws), ws);
    }
    const cws = coarseList.map((ms) => buckets(ms, HOUR));
    this.coarse = new RollingCounts(HOUR, Math.max(...cws), cws);
    const win = (ms: number): Win => {
      const i = fineList.indexOf(ms);
      return i >= 0 ? { counts: this.fine!, j: i, ms } : { counts: this.coarse, j: coarseList.indexOf(ms), ms };
    };
    for (const a of this.alerts) {
      this.long.push(win(a.longMs));
      this.short.push(win(a.shortMs));
    }
    this.budget = win(objective.windowMs);
  }

  /** add counts one evaluation's outcome at t (unknown is not counted). */
  add(t: number, outcome: Outcome): void {
    if (outcome === UNKNOWN) return;
    const good = outcome === PASS ? 1 : 0;
    this.fine?.add(t, good, 1 - good);
    this.coarse.add(t, good, 1 - good);
  }

  /** addCounts adds counts at t, fractions allowed (a rebuild from stored series). */
  addCounts(t: number, good: number, bad: number): void {
    if (!(good >= 0 && bad >= 0) || good + bad === 0) return;
    this.fine?.add(t, good, bad);
    this.coarse.add(t, good, bad);
  }

  /**
   * check moves the windows to t and returns FAIL when a burn-rate alert holds (firing
   * names it), PASS when none does, UNKNOWN when the objective's window has no evaluations.
   */
  check(t: number): Outcome {
    this.fine?.advance(t);
    this.coarse.advance(t);
    this.firing = -1;
    if (this.total(this.budget) === 0) return UNKNOWN;
    for (let i = 0; i < this.alerts.length; i++) {
      const f = this.alerts[i].factor;
      if (this.burnRate(this.long[i]) > f && this.burnRate(this.short[i]) > f) {
        this.firing = i;
        return FAIL;
      }
    }
    return PASS;
  }

  /** budgetRemaining is 1 − bad fraction / (1 − target) over the objective's window; undefined without evaluations. */
  budgetRemaining(): number | undefined {
    const n = this.total(this.budget);
    if (n === 0) return undefined;
    return 1 - this.budget.counts.badIn(this.budget.j) / n / this.allowed;
  }

  /** longBurn is alert i's burn rate over its long window (0 without evaluations). */
  longBurn(i: number): number {
    return this.burnRate(this.long[i]);
  }

  /** shortBurn is alert i's burn rate over its short window. */
  shortBurn(i: number): number {
    return this.burnRate(this.short[i]);
  }

  /** value is what an objective SLA reports as its test's value: the long burn of the alert that holds (else the first). */
  value(): number {
    return this.longBurn(this.firing >= 0 ? this.firing : 0);
  }

  /**
   * describe says where the objective stands, for messages: `fast burn: 15.2× over 1h and
   * 20.0× over 5m (above 14.4×); error budget 80.0% left`.
   */
  describe(): string {
    const budget = this.budgetRemaining();
    const left = budget === undefined ? 'no evaluations in the objective window' : `error budget ${pct(budget)} left`;
    const i = this.firing >= 0 ? this.firing : 0;
    const a = this.alerts[i];
    if (!a) return left;
    const rates = `${rate(this.longBurn(i))}× over ${formatDuration(a.longMs)} and ${rate(this.shortBurn(i))}× over ${formatDuration(a.shortMs)}`;
    if (this.firing >= 0) return `${a.name} burn: ${rates} (above ${a.factor}×); ${left}`;
    return `${left}; burn ${rates}`;
  }

  private total(w: Win): number {
    return w.counts.goodIn(w.j) + w.counts.badIn(w.j);
  }

  private burnRate(w: Win): number {
    const n = this.total(w);
    return n === 0 ? 0 : w.counts.badIn(w.j) / n / this.allowed;
  }
}

function rate(x: number): string {
  return x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
