/**
 * Helpers for the SLA tests: a test evaluator the test controls (Script), and a set of
 * SLAs on a fake clock that records what comes out, rendered short so tables stay readable.
 */
import { Sla, SlaSet, SlaSetOptions, SlaSpec, TestEval, Transition } from '../src/sla';
import { formatDuration } from '../src/util/duration';
import { FakeClock } from './fake-clock';

/** Script is a test's own evaluator: it answers what the test set, and records when it was asked. */
export class Script implements TestEval {
  value: number | boolean | undefined = true;
  /** A function of the time overrides value (slots tests). */
  fn?: (at: number) => number | boolean | undefined;
  throws?: string;
  readonly calls: number[] = [];
  constructor(private readonly label = 'x.y') {}

  evaluate(at: number): { value: number | boolean | undefined; message: string } {
    this.calls.push(at);
    if (this.throws) throw new Error(this.throws);
    const v = this.fn ? this.fn(at) : this.value;
    return { value: v, message: `${this.label} (${v === undefined ? 'no data' : String(v)}) >= 1` };
  }
}

/** Harness: a set on a fake clock, its transitions, and times relative to t0. */
export interface Harness {
  clock: FakeClock;
  set: SlaSet;
  t0: number;
  transitions: Transition[];
  /** The transitions as `+1m10s ok→pending` (`!` when notify). */
  rendered(): string[];
  /** advance the clock to t0 + ms. */
  at(ms: number): Promise<void>;
}

/** rel renders ms after t0 the way a table writes it (+0s, +1m10s). */
export function rel(ms: number): string {
  return `+${ms === 0 ? '0s' : formatDuration(ms)}`;
}

/** render is one transition in the short form. */
export function render(tr: Transition, t0: number): string {
  return `${rel(tr.at - t0)} ${tr.from}→${tr.to}${tr.notify ? '!' : ''}`;
}

export const T0 = Date.parse('2026-06-01T10:00:00Z');

/** harness starts a set with the SLAs given (each with its Script) on a fake clock at t0. */
export function harness(slas: Array<[SlaSpec, TestEval]>, o: Partial<SlaSetOptions> = {}, t0 = T0, clock = new FakeClock(t0)): Harness & { slas: Sla[] } {
  const transitions: Transition[] = [];
  const set = new SlaSet({
    clock,
    ...o,
    onTransition: (tr, sla) => {
      transitions.push(tr);
      o.onTransition?.(tr, sla);
    },
  });
  const added = slas.map(([spec, test]) => set.add(spec, test));
  set.start();
  return {
    clock, set, t0, transitions, slas: added,
    rendered: () => transitions.map((tr) => render(tr, t0)),
    at: (ms) => clock.advanceTo(t0 + ms),
  };
}

export const SEC = 1000;
export const MIN = 60_000;
export const HOUR = 3_600_000;
