import { countEvents, knownCount, percentile, REDUCERS } from './functions';
import { HW_DEVIATION, HW_FAILURE, HW_PREDICTION, HW_STEPS, hwInit, hwLength, hwUpdate } from './holt-winters';
import type { Analysis, Plan, WindowSpec } from './plan';
import { SLOT_WIDTH, Why } from './render';
import { heartbeatMs, initialCapacity, initWindow, startAfter, tAt, vAt, WINDOW_HEADER, windowEnd } from './window';

/**
 * State is what a shape's closures read of one evaluation: the array holding its windows,
 * the values its message shows, its ewma states and Holt-Winters models (laid out by its
 * Shape). Growing a window makes the array again.
 */
export interface State {
  d: Float64Array;
}

/** Fn is a compiled node: the value at a time (or, inside fraction's condition, of a sample); NaN is unknown, 1/0 true/false. */
export type Fn = (e: State, x: number) => number;

/** Hook is what a pushed value of an input also updates (ewma, holt_winters). */
export type Hook = (e: State, v: number) => void;

/**
 * Shape is what evaluating an expression takes apart from its state: the closures that
 * compute it, the hooks per input, and the layout of a state array. Expressions that
 * differ only in the series they read (`avg(web1.ms, 5m)`, `avg(web2.ms, 5m)`) share one
 * shape, so 10,000 derived series made from a few templates run a few sets of closures,
 * each instance being one array.
 *
 * The array: a header per window (window.ts), the leaves' values, the ewma states, the
 * Holt-Winters models (holt-winters.ts), then the windows' rings.
 */
export interface Shape {
  readonly fn: Fn;
  /** Per input (window): what a pushed value also updates; inputs without share one empty list. */
  readonly hooks: ReadonlyArray<readonly Hook[]>;
  /** Per input: keep samples this many ms before the newest, and at least this many. */
  readonly keepMs: readonly number[];
  readonly keepCount: readonly number[];
  /** Where the leaves' values (SLOT_WIDTH numbers each) start, and how many numbers they take. */
  readonly slotsAt: number;
  readonly slotsLength: number;
  /** Where the ewma states start. */
  readonly ewmaAt: number;
  /** Where each Holt-Winters model starts. */
  readonly modelsAt: readonly number[];
  /** Where the windows' rings start. */
  readonly ringsAt: number;
  /** A fresh state array: empty windows, ewma states unknown. */
  readonly template: Float64Array;
}

const NO_HOOKS: readonly Hook[] = Object.freeze([]);

/** Shapes by key, bounded (a config has a few; beyond the bound new ones are not kept). */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 1000;

/** shapeOf is the shape of an analysed expression, shared with the expressions of the same shape. */
export function shapeOf(a: Analysis): Shape {
  const key = shapeKey(a);
  let shape = shapes.get(key);
  if (shape === undefined) {
    shape = buildShape(a);
    if (shapes.size < MAX_SHAPES) shapes.set(key, shape);
  }
  return shape;
}

/**
 * shapeKey: an analysis without what only messages read (texts, nodes) and without the
 * names of its series (inputs are indexes in the plan).
 */
function shapeKey(a: Analysis): string {
  return JSON.stringify(
    { plan: a.plan, type: a.type, inputs: a.inputs.length, windows: a.windows, slots: a.slots, models: a.models, ewmas: a.ewmas },
    (k, v: unknown) => (k === 'node' || k === 'text' ? undefined : typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? '-0' : String(v)}` : v),
  );
}

function buildShape(a: Analysis): Shape {
  const windows = a.windows.length;
  const slotsAt = windows * WINDOW_HEADER;
  const slotsLength = a.slots * SLOT_WIDTH;
  const ewmaAt = slotsAt + slotsLength;
  const modelsAt: number[] = [];
  let at = ewmaAt + a.ewmas.length;
  for (const m of a.models) { modelsAt.push(at); at += hwLength(m.season); }
  const ringsAt = at;
  const capacities = a.windows.map((w) => initialCapacity(w.count));
  const template = new Float64Array(ringsAt + 2 * capacities.reduce((x, y) => x + y, 0));
  let off = ringsAt;
  capacities.forEach((c, i) => { initWindow(template, i * WINDOW_HEADER, off, c); off += 2 * c; });
  template.fill(NaN, ewmaAt, ewmaAt + a.ewmas.length);
  a.models.forEach((m, k) => hwInit(template, modelsAt[k], { season: m.season, alpha: m.alpha, beta: m.beta, gamma: m.gamma }));
  const hooks: Hook[][] = a.windows.map(() => NO_HOOKS as Hook[]);
  const hook = (input: number, h: Hook): void => { hooks[input] = [...hooks[input], h]; };
  a.ewmas.forEach((e, k) => {
    const alpha = e.alpha;
    const j = ewmaAt + k;
    hook(e.input, (s, v) => {
      if (v !== v) return;
      const d = s.d;
      const prev = d[j];
      d[j] = prev !== prev ? v : alpha * v + (1 - alpha) * prev;
    });
  });
  a.models.forEach((m, k) => {
    const base = modelsAt[k];
    hook(m.input, (s, v) => hwUpdate(s.d, base, v));
  });
  return {
    fn: new Builder(a, slotsAt, ewmaAt, modelsAt).build(a.plan),
    hooks, keepMs: a.windows.map((w) => w.ms), keepCount: a.windows.map((w) => w.count),
    slotsAt, slotsLength, ewmaAt, modelsAt, ringsAt, template,
  };
}

/** The buffer percentile sorts in, shared (evaluations do not nest). */
const scratch = { buf: new Float64Array(64) };

/** Builder turns a plan into closures over a state array laid out by the shape. */
class Builder {
  constructor(
    private readonly analysis: Analysis,
    private readonly slotsAt: number,
    private readonly ewmaAt: number,
    private readonly modelsAt: readonly number[],
  ) {}

  build(p: Plan): Fn {
    switch (p.op) {
      case 'const': { const v = p.value; return () => v; }
      case 'sample': return (_e, x) => x;
      case 'read': {
        const w = p.input * WINDOW_HEADER;
        return this.fresh(p.input, p.slot, (d, end) => vAt(d, w, end - 1), () => Why.NotANumber);
      }
      case 'window': {
        const f = p.events ? countEvents : REDUCERS[p.fn].fn;
        return this.ranged(p.input, p.window, p.slot, (_e, d, w, start, end) => f(d, w, start, end));
      }
      case 'percentile': {
        const q = p.p;
        return this.ranged(p.input, p.window, p.slot, (_e, d, w, start, end) => percentile(d, w, start, end, q, scratch));
      }
      case 'fraction': {
        const cond = this.build(p.cond);
        return this.ranged(p.input, p.window, p.slot, (e, d, w, start, end) => {
          let yes = 0;
          let n = 0;
          for (let i = start; i < end; i++) {
            const r = cond(e, vAt(d, w, i));
            if (r === r) { n++; if (r !== 0) yes++; }
          }
          return n === 0 ? NaN : yes / n;
        });
      }
      case 'ewma': {
        const j = this.ewmaAt + p.state;
        return this.fresh(p.input, p.slot, (d) => d[j], () => Why.NotANumber);
      }
      case 'hw': {
        const base = this.modelsAt[p.model];
        const season = this.analysis.models[p.model].season;
        const learnFor = p.output === 'deviation' ? 2 * season + 1 : season + 1;
        const out = base + (p.output === 'prediction' ? HW_PREDICTION : p.output === 'deviation' ? HW_DEVIATION : HW_FAILURE);
        const steps = base + HW_STEPS;
        return this.fresh(p.input, p.slot, (d) => d[out], (d) => (d[steps] < learnFor ? Why.Learning : Why.NotANumber), (d) => d[steps]);
      }
      case 'scalar': {
        const a = this.build(p.args[0]);
        if (p.fn === 'abs') return (e, x) => Math.abs(a(e, x));
        if (p.fn === 'floor') return (e, x) => Math.floor(a(e, x));
        if (p.fn === 'ceil') return (e, x) => Math.ceil(a(e, x));
        const d = p.args[1] ? this.build(p.args[1]) : () => 0;
        return (e, x) => {
          const v = a(e, x);
          const digits = d(e, x);
          const f = 10 ** (digits === digits ? digits : 0);
          return Math.round(v * f) / f;
        };
      }
      case 'exists': { const a = this.build(p.arg); return (e, x) => { const v = a(e, x); return v === v ? 1 : 0; }; }
      case 'neg': { const a = this.build(p.arg); return (e, x) => -a(e, x); }
      case 'not': { const a = this.build(p.arg); return (e, x) => { const v = a(e, x); return v !== v ? NaN : v === 0 ? 1 : 0; }; }
      case 'between': {
        const a = this.build(p.arg);
        const lo = this.build(p.low);
        const hi = this.build(p.high);
        return (e, x) => {
          const v = a(e, x);
          const l = lo(e, x);
          const h = hi(e, x);
          return v !== v || l !== l || h !== h ? NaN : l <= v && v <= h ? 1 : 0;
        };
      }
      case 'binary': return binary(p.bin, this.build(p.left), this.build(p.right));
    }
  }

  /** slot: where a leaf's value, why and detail go in the state array. */
  private slot(slot: number): number {
    return this.slotsAt + slot * SLOT_WIDTH;
  }

  /**
   * ranged: a function over the window's samples at `at`. A duration window is the samples
   * in (at − d, at]; a window of n samples is the last n at or before `at`, unknown when the
   * newest of them is older than its heartbeat.
   */
  private ranged(input: number, win: WindowSpec, slot: number, f: (e: State, d: Float64Array, w: number, start: number, end: number) => number): Fn {
    const w = input * WINDOW_HEADER;
    const k = this.slot(slot);
    const byTime = win.kind === 'ms';
    const n = win.n;
    const settle = (d: Float64Array, v: number, start: number, end: number): number => {
      if (v === v) return known(d, k, v);
      if (end === start) return unknown(d, k, byTime ? Why.Empty : Why.NoSample, 0);
      const c = knownCount(d, w, start, end);
      return c === 0 ? unknown(d, k, Why.NotANumber, 0) : unknown(d, k, Why.TooFew, c);
    };
    if (byTime) {
      return (e, at) => {
        const d = e.d;
        const end = windowEnd(d, w, at);
        const start = startAfter(d, w, at - n, end);
        return settle(d, f(e, d, w, start, end), start, end);
      };
    }
    return (e, at) => {
      const d = e.d;
      const end = windowEnd(d, w, at);
      if (end > 0) {
        const t = tAt(d, w, end - 1);
        const hb = heartbeatMs(d, w);
        if (hb > 0 && at - t > hb) return unknown(d, k, Why.Stale, at - t);
      }
      const start = end > n ? end - n : 0;
      return settle(d, f(e, d, w, start, end), start, end);
    };
  }

  /**
   * fresh: a value as of the newest sample at `at` (a series' last value, a stateful
   * function's state; `end` samples are at or before `at`), unknown without a sample or
   * when its series is stale.
   */
  private fresh(input: number, slot: number, get: (d: Float64Array, end: number) => number, why: (d: Float64Array) => Why, detail: (d: Float64Array) => number = () => 0): Fn {
    const w = input * WINDOW_HEADER;
    const k = this.slot(slot);
    return (e, at) => {
      const d = e.d;
      const end = windowEnd(d, w, at);
      if (end === 0) return unknown(d, k, Why.NoSample, 0);
      const t = tAt(d, w, end - 1);
      const hb = heartbeatMs(d, w);
      if (hb > 0 && at - t > hb) return unknown(d, k, Why.Stale, at - t);
      const v = get(d, end);
      return v === v ? known(d, k, v) : unknown(d, k, why(d), detail(d));
    };
  }
}

function known(d: Float64Array, k: number, v: number): number {
  d[k] = v;
  d[k + 1] = Why.Known;
  return v;
}

function unknown(d: Float64Array, k: number, why: Why, detail: number): number {
  d[k] = NaN;
  d[k + 1] = why;
  d[k + 2] = detail;
  return NaN;
}

/**
 * binary: arithmetic (a division by zero is unknown), comparisons (unknown when a side
 * is), and Kleene's and/or: `false and unknown` is false, `true or unknown` is true. Both
 * sides are always evaluated, so a message shows every value.
 */
function binary(op: string, l: Fn, r: Fn): Fn {
  switch (op) {
    case '+': return (e, x) => l(e, x) + r(e, x);
    case '-': return (e, x) => l(e, x) - r(e, x);
    case '*': return (e, x) => l(e, x) * r(e, x);
    case '/': return (e, x) => { const a = l(e, x); const b = r(e, x); return b === 0 ? NaN : a / b; };
    case '%': return (e, x) => { const a = l(e, x); const b = r(e, x); return b === 0 ? NaN : a % b; };
    case '==': return (e, x) => { const a = l(e, x); const b = r(e, x); return a !== a || b !== b ? NaN : a === b ? 1 : 0; };
    case '!=': return (e, x) => { const a = l(e, x); const b = r(e, x); return a !== a || b !== b ? NaN : a !== b ? 1 : 0; };
    case '<': return (e, x) => { const a = l(e, x); const b = r(e, x); return a !== a || b !== b ? NaN : a < b ? 1 : 0; };
    case '<=': return (e, x) => { const a = l(e, x); const b = r(e, x); return a !== a || b !== b ? NaN : a <= b ? 1 : 0; };
    case '>': return (e, x) => { const a = l(e, x); const b = r(e, x); return a !== a || b !== b ? NaN : a > b ? 1 : 0; };
    case '>=': return (e, x) => { const a = l(e, x); const b = r(e, x); return a !== a || b !== b ? NaN : a >= b ? 1 : 0; };
    case '&&': return (e, x) => {
      const a = l(e, x);
      const b = r(e, x);
      if (a === 0 || b === 0) return 0;
      return a !== a || b !== b ? NaN : 1;
    };
    case '||': return (e, x) => {
      const a = l(e, x);
      const b = r(e, x);
      if ((a === a && a !== 0) || (b === b && b !== 0)) return 1;
      return a !== a || b !== b ? NaN : 0;
    };
    default: throw new Error(`no operator ${op} in series expressions`);
  }
}
