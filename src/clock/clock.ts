import { performance } from 'node:perf_hooks';

/**
 * Clock is the one source of time of a node. Everything time-driven (the scheduler,
 * heartbeat deadlines, and next SLA `for`/`cooldown`, escalation delays, silences) reads
 * it and arms its timers through it, so tests run on a fake clock instead of sleeping.
 *
 * `now` is wall-clock time (epoch ms): what deadlines in a time zone, cron slots and
 * timestamps are made of. `monotonic` never steps (NTP, a resumed VM): what intervals are
 * measured on. A fake clock may return the same value from both.
 */
export interface Clock {
  now(): number;
  monotonic(): number;
  /** setTimer runs fn once after ms; the handle is for clearTimer. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/**
 * realClock is the process's clock. Its timers are referenced: a pending deadline keeps the
 * node alive.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
