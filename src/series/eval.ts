import { knownCount, percentile, REDUCERS } from './functions';
import { HoltWinters } from './holt-winters';
import type { Analysis, Plan, WindowSpec } from './plan';
import { message, SLOT_WIDTH, Why } from './render';
import { Window } from './window';

/** Fn is a compiled node: the value at a time (or, inside fraction's condition, of a sample); NaN is unknown, 1/0 true/false. */
type Fn = (x: number) => number;

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
/** NO_HOOKS: the hooks of an input that updates no state (shared, never pushed to). */
const NO_HOOKS: ReadonlyArray<(v: number) => void> = Object.freeze([]);

/**
 * Evaluation is one instance of a compiled expression: a window per input series, the
 * state of its stateful functions (ewma, holt_winters) and the closures that compute it.
 * push feeds samples; evaluate computes at a time, allocating only the outcome and a copy
 * of the few values its message shows.
 */
export class Evaluation {
  private readonly windows: Window[];
  private readonly index = new Map<string, number>();
  /** Per input, what a pushed value also updates (ewma, holt_winters). */
  private readonly hooks: Array<ReadonlyArray<(v: number) => void>>;
  private readonly slots: Float64Array;
  private readonly fn: Fn;
  private readonly boolean: boolean;

  constructor(private readonly analysis: Analysis) {
    const a = analysis;
    a.inputs.forEach((name, i) => this.index.set(name, i));
    this.windows = a.windows.map((w) => new Window(w.ms, w.count));
    this.hooks = a.inputs.map(() => NO_HOOKS);
    this.slots = new Float64Array(a.slots * SLOT_WIDTH);
    const ewma = new Float64Array(a.ewmas.length).fill(NaN);
    a.ewmas.forEach((e, k) => {
      const alpha = e.alpha;
      this.hook(e.input, (v) => {
        if (v !== v) return;
        const prev = ewma[k];
        ewma[k] = prev !== prev ? v : alpha * v + (1 - alpha) * prev;
      });
    });
    const models = a.models.map((m) => new HoltWinters({ season: m.season, alpha: m.alpha, beta: m.beta, gamma: m.gamma }));
    models.forEach((m, k) => this.hook(a.models[k].input, (v) => m.update(v)));
    this.fn = new Builder(this.windows, this.slots, ewma, models, a).build(a.plan);
    this.boolean = a.type === 'boolean';
  }

  /** hook adds what a pushed value of an input also updates (inputs without share one empty list). */
  private hook(input: number, fn: (v: number) => void): void {
    this.hooks[input] = [...this.hooks[input], fn];
  }

  /** push adds a sample of an input (others are ignored); samples of a series come in time order, an older one is dropped. */
  push(series: string, t: number, value: number, heartbeatS?: number): void {
    // Most expressions read one or two series: a comparison or two beats a map's hashing.
    const names = this.analysis.inputs;
    let i = -1;
    if (names.length <= 4) {
      for (let k = 0; k < names.length; k++) if (names[k] === series) { i = k; break; }
    } else {
      i = this.index.get(series) ?? -1;
    }
    if (i < 0) return;
    const w = this.windows[i];
    if (!w.push(t, value)) return;
    w.heartbeatMs = heartbeatS !== undefined && heartbeatS > 0 ? heartbeatS * 1000 : 0;
    const hooks = this.hooks[i];
    for (let k = 0; k < hooks.length; k++) hooks[k](value);
  }

  /** evaluate computes the expression at `at` (epoch ms). */
  evaluate(at: number): Outcome {
    const v = this.fn(at);
    const value = !Number.isFinite(v) ? undefined : this.boolean ? v !== 0 : v;
    return new Outcome(value, this.slots.length === 0 ? NO_SLOTS : this.slots.slice(), this.analysis);
  }

  /** valueAt computes the expression at `at` without allocating: NaN is unknown, a condition 1 or 0. */
  valueAt(at: number): number {
    const v = this.fn(at);
    return Number.isFinite(v) ? v : NaN;
  }

  /** lastMessage renders the message of the last evaluation (valueAt or evaluate). */
  lastMessage(): string {
    return message(this.analysis.plan, this.slots, this.analysis);
  }
}

/** Builder turns a plan into closures over one evaluation's windows and state. */
class Builder {
  private readonly scratch = { buf: new Float64Array(64) };

  constructor(
    private readonly windows: Window[],
    private readonly slots: Float64Array,
    private readonly ewma: Float64Array,
    private readonly models: HoltWinters[],
    private readonly analysis: Analysis,
  ) {}

  build(p: Plan): Fn {
    const s = this.slots;
    switch (p.op) {
      case 'const': { const v = p.value; return () => v; }
      case 'sample': return (x) => x;
      case 'read': {
        const w = this.windows[p.input];
        const k = p.slot * SLOT_WIDTH;
        return (at) => {
          const end = w.end(at);
          if (end === 0) return unknown(s, k, Why.NoSample, 0);
          const t = w.tAt(end - 1);
          if (w.heartbeatMs > 0 && at - t > w.heartbeatMs) return unknown(s, k, Why.Stale, at - t);
          const v = w.vAt(end - 1);
          return v === v ? known(s, k, v) : unknown(s, k, Why.NotANumber, 0);
        };
      }
      case 'window': {
        const r = REDUCERS[p.fn];
        const f = r.fn;
        return this.ranged(p.input, p.window, p.slot, (w, start, end) => f(w, start, end));
      }
      case 'percentile': {
        const q = p.p;
        const scratch = this.scratch;
        return this.ranged(p.input, p.window, p.slot, (w, start, end) => percentile(w, start, end, q, scratch));
      }
      case 'fraction': {
        const cond = this.build(p.cond);
        return this.ranged(p.input, p.window, p.slot, (w, start, end) => {
          let yes = 0;
          let n = 0;
          for (let i = start; i < end; i++) {
            const r = cond(w.vAt(i));
            if (r === r) { n++; if (r !== 0) yes++; }
          }
          return n === 0 ? NaN : yes / n;
        });
      }
      case 'ewma': {
        const state = this.ewma;
        const j = p.state;
        return this.fresh(p.input, p.slot, () => state[j], () => Why.NotANumber);
      }
      case 'hw': {
        const m = this.models[p.model];
        const season = this.analysis.models[p.model].season;
        const learnFor = p.output === 'deviation' ? 2 * season + 1 : season + 1;
        const get = p.output === 'prediction' ? () => m.prediction : p.output === 'deviation' ? () => m.deviation : () => m.failure;
        return this.fresh(p.input, p.slot, get, () => (m.steps < learnFor ? Why.Learning : Why.NotANumber), () => m.steps);
      }
      case 'scalar': {
        const a = this.build(p.args[0]);
        if (p.fn === 'abs') return (x) => Math.abs(a(x));
        if (p.fn === 'floor') return (x) => Math.floor(a(x));
        if (p.fn === 'ceil') return (x) => Math.ceil(a(x));
        const d = p.args[1] ? this.build(p.args[1]) : () => 0;
        return (x) => {
          const v = a(x);
          const digits = d(x);
          const f = 10 ** (digits === digits ? digits : 0);
          return Math.round(v * f) / f;
        };
      }
      case 'exists': { const a = this.build(p.arg); return (x) => { const v = a(x); return v === v ? 1 : 0; }; }
      case 'neg': { const a = this.build(p.arg); return (x) => -a(x); }
      case 'not': { const a = this.build(p.arg); return (x) => { const v = a(x); return v !== v ? NaN : v === 0 ? 1 : 0; }; }
      case 'between': {
        const a = this.build(p.arg);
        const lo = this.build(p.low);
        const hi = this.build(p.high);
        return (x) => {
          const v = a(x);
          const l = lo(x);
          const h = hi(x);
          return v !== v || l !== l || h !== h ? NaN : l <= v && v <= h ? 1 : 0;
        };
      }
      case 'binary': return binary(p.bin, this.build(p.left), this.build(p.right));
    }
  }

  /**
   * ranged: a function over the window's samples at `at`. A duration window is the samples
   * in (at − d, at]; a window of n samples is the last n at or before `at`, unknown when the
   * newest of them is older than its heartbeat.
   */
  private ranged(input: number, win: WindowSpec, slot: number, f: (w: Window, start: number, end: number) => number): Fn {
    const w = this.windows[input];
    const s = this.slots;
    const k = slot * SLOT_WIDTH;
    const byTime = win.kind === 'ms';
    const n = win.n;
    const settle = (v: number, start: number, end: number): number => {
      if (v === v) return known(s, k, v);
      if (end === start) return unknown(s, k, byTime ? Why.Empty : Why.NoSample, 0);
      const c = knownCount(w, start, end);
      return c === 0 ? unknown(s, k, Why.NotANumber, 0) : unknown(s, k, Why.TooFew, c);
    };
    if (byTime) {
      return (at) => {
        const end = w.end(at);
        const start = w.startAfter(at - n, end);
        return settle(f(w, start, end), start, end);
      };
    }
    return (at) => {
      const end = w.end(at);
      if (end > 0) {
        const t = w.tAt(end - 1);
        if (w.heartbeatMs > 0 && at - t > w.heartbeatMs) return unknown(s, k, Why.Stale, at - t);
      }
      const start = end > n ? end - n : 0;
      return settle(f(w, start, end), start, end);
    };
  }

  /** fresh: a stateful function's value, unknown without a sample or when its series is stale. */
  private fresh(input: number, slot: number, get: () => number, why: () => Why, detail: () => number = () => 0): Fn {
    const w = this.windows[input];
    const s = this.slots;
    const k = slot * SLOT_WIDTH;
    return (at) => {
      const end = w.end(at);
      if (end === 0) return unknown(s, k, Why.NoSample, 0);
      const t = w.tAt(end - 1);
      if (w.heartbeatMs > 0 && at - t > w.heartbeatMs) return unknown(s, k, Why.Stale, at - t);
      const v = get();
      return v === v ? known(s, k, v) : unknown(s, k, why(), detail());
    };
  }
}

function known(s: Float64Array, k: number, v: number): number {
  s[k] = v;
  s[k + 1] = Why.Known;
  return v;
}

function unknown(s: Float64Array, k: number, why: Why, detail: number): number {
  s[k] = NaN;
  s[k + 1] = why;
  s[k + 2] = detail;
  return NaN;
}

/**
 * binary: arithmetic (a division by zero is unknown), comparisons (unknown when a side
 * is), and Kleene's and/or: `false and unknown` is false, `true or unknown` is true. Both
 * sides are always evaluated, so a message shows every value.
 */
function binary(op: string, l: Fn, r: Fn): Fn {
  switch (op) {
    case '+': return (x) => l(x) + r(x);
    case '-': return (x) => l(x) - r(x);
    case '*': return (x) => l(x) * r(x);
    case '/': return (x) => { const a = l(x); const b = r(x); return b === 0 ? NaN : a / b; };
    case '%': return (x) => { const a = l(x); const b = r(x); return b === 0 ? NaN : a % b; };
    case '==': return (x) => { const a = l(x); const b = r(x); return a !== a || b !== b ? NaN : a === b ? 1 : 0; };
    case '!=': return (x) => { const a = l(x); const b = r(x); return a !== a || b !== b ? NaN : a !== b ? 1 : 0; };
    case '<': return (x) => { const a = l(x); const b = r(x); return a !== a || b !== b ? NaN : a < b ? 1 : 0; };
    case '<=': return (x) => { const a = l(x); const b = r(x); return a !== a || b !== b ? NaN : a <= b ? 1 : 0; };
    case '>': return (x) => { const a = l(x); const b = r(x); return a !== a || b !== b ? NaN : a > b ? 1 : 0; };
    case '>=': return (x) => { const a = l(x); const b = r(x); return a !== a || b !== b ? NaN : a >= b ? 1 : 0; };
    case '&&': return (x) => {
      const a = l(x);
      const b = r(x);
      if (a === 0 || b === 0) return 0;
      return a !== a || b !== b ? NaN : 1;
    };
    case '||': return (x) => {
      const a = l(x);
      const b = r(x);
      if ((a === a && a !== 0) || (b === b && b !== 0)) return 1;
      return a !== a || b !== b ? NaN : 0;
    };
    default: throw new Error(`no operator ${op} in series expressions`);
  }
}
