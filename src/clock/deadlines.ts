import { Clock } from './clock';

/**
 * MAX_SLEEP_MS caps one timer: setTimeout cannot wait longer than 2^31-1 ms (24.8 days),
 * and a timer that wakes now and then re-reads the clock, so a clock step (NTP, a
 * resumed VM) delays a deadline by at most this much. It is not a poll: a wake-up with
 * nothing due only re-arms.
 */
export const MAX_SLEEP_MS = 5 * 60_000;

/** Timed is something with an alarm time and a slot in the heap. */
export interface Timed {
  alarm: number;
  heapIndex: number;
}

/** DeadlineOptions: which of the clock's times alarms are in. */
export interface DeadlineOptions {
  /**
   * Alarms in the clock's monotonic time (intervals: the scheduler) instead of wall-clock
   * epoch ms (deadlines in a time zone: heartbeats, SLA windows).
   */
  monotonic?: boolean;
  /**
   * Wake-ups fall on a grid of this many ms (0: none): alarms due within one step fire in
   * one wake-up, late by less than a step and never early. Thousands of blocks spread over
   * an interval then start in batches (a ping block's requests go out together, their
   * replies are read together) instead of a timer each.
   */
  coalesceMs?: number;
  /**
   * The armed timer is kept when the earliest alarm moves later or goes (it fires, finds
   * nothing due and arms for what is then earliest) and replaced only by an earlier one:
   * for alarms that are mostly removed before they are due (a ping's reply deadline), one
   * timer now and then instead of a timer set and cleared per alarm.
   */
  lazy?: boolean;
}

/**
 * Deadlines is the one deadline service: it keeps every item's next alarm in one indexed
 * min-heap and arms one timer for the earliest, so the timer fires exactly when the first
 * alarm is due whatever the number of items, and moving or removing an alarm is O(log n).
 * `fire` gets each item whose alarm is due, once per arming (the callback re-sets it).
 * The scheduler's runs and the heartbeats' deadlines are both kept this way.
 */
export class Deadlines<T extends Timed> {
  private readonly heap: T[] = [];
  private timer: unknown;
  private timerAt = Infinity;
  private firing = false;
  /** The item whose callback runs (tick); its alarm is still the due one. */
  private current?: T;
  private stopped = false;

  private readonly time: () => number;
  private readonly grid: number;
  private readonly lazy: boolean;

  constructor(private readonly clock: Clock, private readonly fire: (item: T, now: number) => void, options: DeadlineOptions = {}) {
    this.time = options.monotonic ? () => clock.monotonic() : () => clock.now();
    this.grid = options.coalesceMs && options.coalesceMs > 0 ? options.coalesceMs : 0;
    this.lazy = options.lazy === true;
  }

  get size(): number {
    return this.heap.length;
  }

  /** set moves item's alarm to `at` (Infinity removes it). */
  set(item: T, at: number): void {
    if (item === this.current) {
      // The item being fired, still at the top with its due alarm: moved from there in one sift.
      this.current = undefined;
      if (at === Infinity) {
        this.removeAt(item.heapIndex);
        item.alarm = Infinity;
      } else {
        item.alarm = at;
        this.down(item.heapIndex);
        this.up(item.heapIndex);
      }
      if (!this.firing) this.arm();
      return;
    }
    if (item.heapIndex >= 0 && item.alarm === at) return;
    if (item.heapIndex >= 0 && at !== Infinity) {
      // Moved: sift it from where it is (a success moves a deadline later).
      const later = at > item.alarm;
      item.alarm = at;
      if (later) this.down(item.heapIndex);
      else this.up(item.heapIndex);
    } else {
      if (item.heapIndex >= 0) this.removeAt(item.heapIndex);
      item.alarm = at;
      if (at !== Infinity) this.push(item);
    }
    if (!this.firing) this.arm();
  }

  delete(item: T): void {
    this.set(item, Infinity);
  }

  /** next is the earliest alarm (Infinity when none). */
  next(): number {
    return this.heap[0]?.alarm ?? Infinity;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.next();
    const at = this.grid && next !== Infinity ? Math.ceil(next / this.grid) * this.grid : next;
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.lazy && this.timer !== undefined && this.timerAt <= at) return; // it fires first and re-arms then
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil(at - this.time())));
    this.timer = this.clock.setTimer(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.time();
    this.firing = true;
    try {
      // Each due item is handed to its callback once; one the callback does not set again
      // leaves the heap. (It stays at the top meanwhile, so setting it later is one sift.)
      for (let top = this.heap[0]; top && top.alarm <= now; top = this.heap[0]) {
        this.current = top;
        try {
          this.fire(top, now);
        } finally {
          if (this.current === top) {
            this.current = undefined;
            if (top.heapIndex >= 0) this.removeAt(top.heapIndex);
            top.alarm = Infinity;
          }
        }
      }
    } finally {
      this.firing = false;
      this.current = undefined;
    }
    this.arm();
  }

  private push(item: T): void {
    item.heapIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.heapIndex);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const item = h[i];
    const last = h.pop()!;
    item.heapIndex = -1;
    if (i < h.length) {
      h[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].alarm <= item.alarm) break;
      h[i] = h[p];
      h[i].heapIndex = i;
      i = p;
    }
    h[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const item = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r].alarm < h[l].alarm ? r : l;
      if (h[c].alarm >= item.alarm) break;
      h[i] = h[c];
      h[i].heapIndex = i;
      i = c;
    }
    h[i] = item;
    item.heapIndex = i;
  }
}
