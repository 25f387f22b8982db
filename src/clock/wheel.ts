import { Clock } from './clock';
import { MAX_SLEEP_MS } from './deadlines';

/**
 * Slotted is something with an alarm in a Wheel: whether it has one, and which slot entry
 * is its current one. The alarm's time is kept in the slot, not in the item: a number field
 * that is not a small integer is a heap number of its own, one more object to touch per
 * alarm (at 100,000 items, one not in cache).
 */
export interface Slotted {
  /** The item has an alarm set. */
  armed: boolean;
  /** Bumped at each set: a slot's older entries for the item are stale and skipped. */
  wheelSeq: number;
}

/** Slot holds the items whose alarms fall in one step of the grid, in the order they were set. */
interface Slot<T> {
  /** items[0..n), their seqs and alarm times; a reused slot's arrays keep their length, written over from 0. */
  items: Array<T | undefined>;
  seqs: number[];
  times: number[];
  n: number;
  /** Items were set in alarm order (the common case: no sort when it fires). */
  ordered: boolean;
  last: number;
}

/** MAX_SPARE: fired slots kept for reuse (a minute of 4 ms slots is 15,000; new slots are made as the grid moves on). */
const MAX_SPARE = 64;
/** A fired slot of more items than this is not kept (its arrays would hold on to that many). */
const MAX_SPARE_ITEMS = 4096;

/**
 * Wheel is a deadline service for many items on a coarse grid (the scheduler's runs):
 * alarms within one step of `gridMs` share a slot, one timer is armed for the earliest
 * slot, and setting or moving an alarm appends to a slot in O(1) instead of a sift in a
 * heap of every item (at 100,000 blocks that is 17 levels of cache misses per run). A
 * moved or removed item leaves a stale entry behind, skipped when its slot fires. Items
 * of one slot fire in alarm order, at the slot's time: late by less than a step, never
 * early, like Deadlines with coalesceMs. The slots themselves are few (one per step with
 * alarms) and kept in a small heap. Alarms are in the clock's monotonic time.
 */
export class Wheel<T extends Slotted> {
  private readonly slots = new Map<number, Slot<T>>();
  /** Keys (slot times) of the slots, a min-heap. */
  private readonly keys: number[] = [];
  private timer: unknown;
  private timerAt = Infinity;
  private firing = false;
  private stopped = false;
  private count = 0;
  /** Items with an alarm set (the entries that are not stale). */
  private live = 0;
  /**
   * Slots that fired, emptied for reuse: their arrays keep their capacity and stay in the old
   * generation, so a slot costs no allocation, no growth copies and no promotion per run.
   */
  private readonly spare: Array<Slot<T>> = [];
  /**
   * The slot last set into, and its key (NaN: none): the items of a fired slot mostly move
   * on to one and the same later slot, which then costs no map lookup each.
   */
  private lastKey = NaN;
  private lastSlot?: Slot<T>;

  /** fire gets each item whose alarm is due, the time, and the alarm's time. */
  constructor(private readonly clock: Clock, private readonly fire: (item: T, now: number, at: number) => void, private readonly gridMs: number) {}

  /** size counts slot entries, stale ones included (for tests and stats). */
  get size(): number {
    return this.count;
  }

  /** set moves item's alarm to `at` (Infinity removes it). */
  set(item: T, at: number): void {
    item.wheelSeq++;
    if (item.armed) this.live--;
    if (at === Infinity) {
      item.armed = false;
      if (this.live === 0) this.clear();
      return;
    }
    item.armed = true;
    this.live++;
    const key = this.gridMs > 0 ? Math.ceil(at / this.gridMs) * this.gridMs : at;
    let slot = key === this.lastKey ? this.lastSlot : this.slots.get(key);
    if (!slot) {
      slot = this.spare.pop() ?? { items: [], seqs: [], times: [], n: 0, ordered: true, last: -Infinity };
      this.slots.set(key, slot);
      this.pushKey(key);
    }
    this.lastKey = key;
    this.lastSlot = slot;
    const i = slot.n++;
    if (i < slot.items.length) {
      slot.items[i] = item;
      slot.seqs[i] = item.wheelSeq;
      slot.times[i] = at;
    } else {
      slot.items.push(item);
      slot.seqs.push(item.wheelSeq);
      slot.times.push(at);
    }
    if (at < slot.last) slot.ordered = false;
    else slot.last = at;
    this.count++;
    if (!this.firing && key < this.timerAt) this.arm();
  }

  delete(item: T): void {
    this.set(item, Infinity);
  }

  /** clear drops every alarm (the items stay armed as they were: the caller disarms them). */
  clear(): void {
    this.slots.clear();
    this.forgetLast();
    this.keys.length = 0;
    this.count = 0;
    this.live = 0;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    if (this.stopped) return;
    // Only stale entries are left: no timer (it would keep the process alive for nothing).
    if (this.live === 0) return this.clear();
    const at = this.keys.length > 0 ? this.keys[0] : Infinity;
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil(at - this.clock.monotonic())));
    this.timer = this.clock.setTimer(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.clock.monotonic();
    this.firing = true;
    try {
      while (this.keys.length > 0 && this.keys[0] <= now) {
        const key = this.popKey();
        const slot = this.slots.get(key)!;
        this.slots.delete(key);
        if (key === this.lastKey) this.forgetLast();
        this.count -= slot.n;
        this.fireSlot(slot, now);
        this.recycle(slot);
      }
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  private fireSlot(slot: Slot<T>, now: number): void {
    const { items, seqs, times, n } = slot;
    if (!slot.ordered) {
      // Rare (an alarm moved earlier into a slot): fire in alarm order, as a heap would.
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a] - times[b]);
      for (const i of order) if (items[i]!.wheelSeq === seqs[i]) this.fireItem(items[i]!, now, times[i]);
      return;
    }
    for (let i = 0; i < n; i++) {
      // A stale entry: the item was moved or removed since.
      const item = items[i]!;
      if (item.wheelSeq === seqs[i]) this.fireItem(item, now, times[i]);
    }
  }

  /**
   * recycle empties a fired slot into the spares (at most MAX_SPARE of them). Its arrays keep
   * their length (setting it to 0 would free them); the items left in them are overwritten by
   * the next use, and a slot longer than MAX_SPARE_ITEMS is dropped so no more are held.
   */
  private recycle(slot: Slot<T>): void {
    if (this.spare.length >= MAX_SPARE || slot.items.length > MAX_SPARE_ITEMS) return;
    slot.n = 0;
    slot.ordered = true;
    slot.last = -Infinity;
    this.spare.push(slot);
  }

  /** fireItem takes the item off the wheel and calls back (which may set it again). */
  private fireItem(item: T, now: number, at: number): void {
    item.wheelSeq++;
    item.armed = false;
    this.live--;
    this.fire(item, now, at);
  }

  private forgetLast(): void {
    this.lastKey = NaN;
    this.lastSlot = undefined;
  }

  private pushKey(key: number): void {
    const h = this.keys;
    let i = h.length;
    h.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= key) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = key;
  }

  private popKey(): number {
    const h = this.keys;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r] < h[l] ? r : l;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
