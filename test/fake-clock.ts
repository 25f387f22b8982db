import { Clock } from '../src/clock';

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * FakeClock is a wall clock tests move by hand: `advance` runs each timer at its own
 * time, in order, and lets asynchronous work (a journal write) settle after each, so a
 * day passes in milliseconds and a timer that fires early or late shows.
 */
export class FakeClock implements Clock {
  private timers: FakeTimer[] = [];
  private seq = 0;
  /** How many timers were ever set, and the most that were armed at once. */
  set = 0;
  maxArmed = 0;
  /** The time each timer actually ran at. */
  readonly fired: number[] = [];

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  /** monotonic is the same time: a fake clock never steps unless a test moves it. */
  monotonic(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    this.set++;
    this.maxArmed = Math.max(this.maxArmed, this.timers.length);
    return timer.id;
  }

  clearTimer(id: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== id);
  }

  get armed(): number {
    return this.timers.length;
  }

  /** advance moves time by ms, running due timers at their times; settle runs after each. */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      this.fired.push(this.t);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /**
   * jump moves time by ms without running the timers that fell due meanwhile (a process
   * that was stopped, or an event loop blocked); they run at the next advance.
   */
  jump(ms: number): void {
    this.t += ms;
  }

  /** advanceTo moves to an absolute time (epoch ms or ISO). */
  advanceTo(at: number | string, settle?: () => Promise<void>): Promise<void> {
    const target = typeof at === 'string' ? Date.parse(at) : at;
    return this.advance(Math.max(0, target - this.t), settle);
  }
}
