import type { Result } from './result';

/** SLOTS: a row's slots: the last result recorded or restored, the last run's result, runs, failures. */
const SLOTS = 4;

/**
 * StateRows holds the part of every block's state (BlockState) that each run changes, in one
 * array of four slots a block: the last result recorded or restored, the last result of a
 * run, and the counts of runs and failures. At 100,000 blocks a run then writes into one
 * array that every run writes into, not into an object of its block that has not been
 * touched for an interval: storing a new Result into such an object costs a cache miss for
 * the object and another for its page's header (the write barrier's check), where the
 * array's page header is in cache. The counts are small integers, stored without a barrier.
 */
export class StateRows {
  private readonly slots: Array<Result | number | undefined> = [];
  private readonly free: number[] = [];

  /** add makes a row (or reuses a freed one) with no result and no runs. */
  add(): number {
    const s = this.slots;
    const row = this.free.pop();
    if (row !== undefined) {
      const i = row * SLOTS;
      s[i] = s[i + 1] = undefined;
      s[i + 2] = s[i + 3] = 0;
      return row;
    }
    s.push(undefined, undefined, 0, 0);
    return s.length / SLOTS - 1;
  }

  /** release gives a row back (its block was removed; it reads a copy from then on). */
  release(row: number): void {
    const i = row * SLOTS;
    this.slots[i] = this.slots[i + 1] = undefined;
    this.free.push(row);
  }

  /** record counts a run and keeps its result as the last one. */
  record(row: number, r: Result): void {
    const s = this.slots;
    const i = row * SLOTS;
    s[i] = r;
    s[i + 1] = r;
    s[i + 2] = (s[i + 2] as number) + 1;
    if (!r.ok) s[i + 3] = (s[i + 3] as number) + 1;
  }

  /** restore keeps a result kept across a restart as the last one, without counting a run. */
  restore(row: number, r: Result): void {
    this.slots[row * SLOTS] = r;
  }

  last(row: number): Result | undefined {
    return this.slots[row * SLOTS] as Result | undefined;
  }

  lastRun(row: number): Result | undefined {
    return this.slots[row * SLOTS + 1] as Result | undefined;
  }

  runs(row: number): number {
    return this.slots[row * SLOTS + 2] as number;
  }

  failures(row: number): number {
    return this.slots[row * SLOTS + 3] as number;
  }
}
