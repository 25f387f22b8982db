import type { Analysis } from './plan';
import { message } from './render';
import { Shape, shapeOf, State } from './shape';
import { FULL, grow, pushSample, REFUSED, WINDOW_HEADER } from './window';

/** Outcome is one evaluation: the value (undefined: unknown) and, when read, the message. */
export class Outcome {
  constructor(
    readonly value: number | boolean | undefined,
    private readonly slots: Float64Array,
    private readonly analysis: Analysis,
  ) {}

  /** message shows the values the evaluation saw; it is rendered when read. */
  get message(): string {
    return message(this.analysis.plan, this.slots, this.analysis);
  }

  toJSON(): { value: number | boolean | undefined; message: string } {
    return { value: this.value, message: this.message };
  }
}

const NO_SLOTS = new Float64Array(0);

/**
 * Evaluation is one instance of a compiled expression: one array with a window per input
 * series, the values its message shows, its ewma states and Holt-Winters models (laid out
 * by its shape, which also holds the closures that compute it, shared by the expressions
 * of the same shape). push feeds samples; evaluate computes at a time, allocating only the
 * outcome and a copy of the few values its message shows.
 */
export class Evaluation implements State {
  d: Float64Array;
  private readonly shape: Shape;
  private index?: Map<string, number>;

  constructor(private readonly analysis: Analysis, shape: Shape = shapeOf(analysis)) {
    this.shape = shape;
    this.d = shape.template.slice();
  }

  /** push adds a sample of an input (others are ignored); samples of a series come in time order, an older one is dropped. */
  push(series: string, t: number, value: number, heartbeatS?: number): void {
    // Most expressions read one or two series: a comparison or two beats a map's hashing.
    const names = this.analysis.inputs;
    let i = -1;
    if (names.length <= 4) {
      for (let k = 0; k < names.length; k++) if (names[k] === series) { i = k; break; }
    } else {
      this.index ??= new Map(names.map((n, k) => [n, k]));
      i = this.index.get(series) ?? -1;
    }
    if (i >= 0) this.pushInput(i, t, value, heartbeatS);
  }

  /** pushInput is push for the i-th input (the order of SeriesExpr.inputs), for callers that looked the series up once; another i is ignored. */
  pushInput(i: number, t: number, value: number, heartbeatS?: number): void {
    const s = this.shape;
    if (!(i >= 0 && i < s.keepMs.length)) return;
    const w = i * WINDOW_HEADER;
    const hbMs = heartbeatS !== undefined && heartbeatS > 0 ? heartbeatS * 1000 : 0;
    let done = pushSample(this.d, w, s.keepMs[i], s.keepCount[i], t, value, hbMs);
    if (done === FULL) {
      this.d = grow(this.d, s.keepMs.length, s.ringsAt, i);
      done = pushSample(this.d, w, s.keepMs[i], s.keepCount[i], t, value, hbMs);
    }
    if (done === REFUSED) return;
    const hooks = s.hooks[i];
    for (let k = 0; k < hooks.length; k++) hooks[k](this, value);
  }

  /** evaluate computes the expression at `at` (epoch ms). */
  evaluate(at: number): Outcome {
    const v = this.shape.fn(this, at);
    const value = !Number.isFinite(v) ? undefined : this.analysis.type === 'boolean' ? v !== 0 : v;
    const s = this.shape;
    return new Outcome(value, s.slotsLength === 0 ? NO_SLOTS : this.d.slice(s.slotsAt, s.slotsAt + s.slotsLength), this.analysis);
  }

  /** valueAt computes the expression at `at` without allocating: NaN is unknown, a condition 1 or 0. */
  valueAt(at: number): number {
    const v = this.shape.fn(this, at);
    return Number.isFinite(v) ? v : NaN;
  }

  /** lastMessage renders the message of the last evaluation (valueAt or evaluate). */
  lastMessage(): string {
    const s = this.shape;
    return message(this.analysis.plan, this.d.subarray(s.slotsAt, s.slotsAt + s.slotsLength), this.analysis);
  }
}
