import type { BinaryOp, Node } from '../expr';
import { REDUCERS, WindowFnName } from './functions';
import { HW_DEFAULT_ALPHA, HW_DEFAULT_BETA, HW_OUTPUTS, HwOutput } from './holt-winters';
import { show } from './render';

/** WindowSpec is a window argument: the last `n` ms (`5m`) or the last `n` samples (`20`). */
export interface WindowSpec {
  kind: 'ms' | 'count';
  n: number;
  /** As written, for messages: `5m`, `20`. */
  text: string;
}

/** HwSpec is one Holt-Winters model; calls with the same series and parameters share it. */
export interface HwSpec {
  input: number;
  season: number;
  alpha: number;
  beta: number;
  gamma: number;
}

/** Leaf fields: a node that reads a series shows its value in messages, kept in `slot`. */
interface Leaf {
  slot: number;
  /** The leaf's text in messages (canonical source). */
  text: string;
  node: Node;
}

/**
 * Plan is an expression checked and resolved for evaluation: series are input indexes,
 * windows and parameters are numbers, and every node that reads a series (a leaf) has a
 * slot where evaluation leaves its value for the message.
 */
export type Plan =
  | { op: 'const'; value: number; node: Node }
  | ({ op: 'read'; input: number } & Leaf)
  /** events: count() over an event series adds the samples' values (functions.ts countEvents). */
  | ({ op: 'window'; fn: WindowFnName; input: number; window: WindowSpec; events?: true } & Leaf)
  | ({ op: 'percentile'; input: number; p: number; window: WindowSpec } & Leaf)
  | ({ op: 'fraction'; input: number; cond: Plan; window: WindowSpec } & Leaf)
  | ({ op: 'ewma'; input: number; alpha: number; state: number } & Leaf)
  | ({ op: 'hw'; input: number; output: HwOutput; model: number } & Leaf)
  | { op: 'scalar'; fn: ScalarFn; args: Plan[]; node: Node }
  | { op: 'exists'; arg: Plan; node: Node }
  | { op: 'neg' | 'not'; arg: Plan; node: Node }
  | { op: 'binary'; bin: BinaryOp; left: Plan; right: Plan; node: Node }
  | { op: 'between'; arg: Plan; low: Plan; high: Plan; node: Node }
  /** Inside fraction's condition: the value of the sample being tested. */
  | { op: 'sample'; node: Node };

/** ScalarFn: the functions of pipe conditions that series expressions keep. */
export type ScalarFn = 'abs' | 'round' | 'floor' | 'ceil';

/** ValueType is what an expression gives: a number, or true/false (a condition). */
export type ValueType = 'number' | 'boolean';

/** Problem is one thing wrong with an expression: where (0-based) and why. */
export interface Problem {
  pos: number;
  reason: string;
}

/** Analysis is a plan with what it reads and needs, or the problems that prevent one. */
export interface Analysis {
  plan: Plan;
  type: ValueType;
  /** Series read, in order of first appearance. */
  inputs: string[];
  /** Per input: the longest duration window (ms) and sample window (count) it is read over. */
  windows: Array<{ ms: number; count: number }>;
  /** Per input: the history a rebuild must replay (stateful functions need more than their windows). */
  needs: Array<{ ms: number; count: number }>;
  slots: number;
  models: HwSpec[];
  ewmas: Array<{ input: number; alpha: number }>;
  problems: Problem[];
  /** Each series name with the position of its first use (unknown names are reported there). */
  refs: Array<{ name: string; pos: number }>;
}

const WINDOW_FNS = Object.keys(REDUCERS) as WindowFnName[];
const SCALAR_FNS: readonly ScalarFn[] = ['abs', 'round', 'floor', 'ceil'];

/** SERIES_FUNCTION_NAMES: every function a series expression may call. */
export const SERIES_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  ...WINDOW_FNS, 'percentile', 'fraction', 'ewma', 'holt_winters', ...SCALAR_FNS, 'exists',
]);

/** MAX_WINDOW_COUNT bounds a window of samples. */
export const MAX_WINDOW_COUNT = 1_000_000;
/** MAX_WINDOW_MS bounds a duration window (400 days). */
export const MAX_WINDOW_MS = 400 * 86_400_000;
/** MAX_HW_REBUILD bounds the samples a Holt-Winters model is rebuilt from (a week of 10 s samples). */
export const MAX_HW_REBUILD = 60_480;
/** MAX_SEASON bounds holt_winters' season (samples). */
export const MAX_SEASON = 100_000;
/**
 * REBUILD_WEIGHT: a stateful function (ewma, holt_winters) is rebuilt after a restart from
 * enough samples that what came before them weighs less than this in its state.
 */
const REBUILD_WEIGHT = 1e-6;

/** forgetAfter is how many updates with smoothing factor f make a start weigh less than REBUILD_WEIGHT. */
function forgetAfter(f: number): number {
  return f >= 1 ? 1 : Math.ceil(Math.log(REBUILD_WEIGHT) / Math.log(1 - f));
}

/** analyze checks a parsed series expression and resolves it into a plan; problems say what is wrong. */
export function analyze(root: Node, functions: ReadonlySet<string> = SERIES_FUNCTION_NAMES, events?: (series: string) => boolean): Analysis {
  const a = new Analyzer(functions, events);
  const plan = a.expr(root);
  return {
    plan, type: typeOf(plan), inputs: a.inputs, windows: a.windows, needs: a.needs, slots: a.slots,
    models: a.models, ewmas: a.ewmas, problems: a.problems, refs: a.refs,
  };
}

/** typeOf: comparisons, logic and exists() give true/false; everything else a number. */
export function typeOf(p: Plan): ValueType {
  switch (p.op) {
    case 'not': case 'between': case 'exists': return 'boolean';
    case 'binary': return ['&&', '||', '==', '!=', '<', '<=', '>', '>='].includes(p.bin) ? 'boolean' : 'number';
    case 'const': return p.node.kind === 'bool' ? 'boolean' : 'number';
    default: return 'number';
  }
}

class Analyzer {
  inputs: string[] = [];
  windows: Array<{ ms: number; count: number }> = [];
  needs: Array<{ ms: number; count: number }> = [];
  slots = 0;
  models: HwSpec[] = [];
  ewmas: Array<{ input: number; alpha: number }> = [];
  problems: Problem[] = [];
  refs: Array<{ name: string; pos: number }> = [];

  constructor(private readonly functions: ReadonlySet<string>, private readonly events?: (series: string) => boolean) {}

  private fail(pos: number, reason: string): Plan {
    this.problems.push({ pos, reason });
    return dead(pos);
  }

  private input(name: string, pos: number): number {
    let i = this.inputs.indexOf(name);
    if (i < 0) {
      i = this.inputs.push(name) - 1;
      this.windows.push({ ms: 0, count: 1 });
      this.needs.push({ ms: 0, count: 1 });
      this.refs.push({ name, pos });
    }
    return i;
  }

  private leaf(node: Node): Leaf {
    return { slot: this.slots++, text: show(node), node };
  }

  private widen(input: number, w: WindowSpec): void {
    for (const list of [this.windows, this.needs]) {
      if (w.kind === 'ms') list[input].ms = Math.max(list[input].ms, w.n);
      else list[input].count = Math.max(list[input].count, w.n);
    }
  }

  expr(n: Node): Plan {
    switch (n.kind) {
      case 'num': return { op: 'const', value: n.value, node: n };
      case 'bool': return { op: 'const', value: n.value ? 1 : 0, node: n };
      case 'str': return this.fail(n.pos, `text (${show(n)}) is not a value of a series; only holt_winters() takes text, as its output`);
      case 'null': return this.fail(n.pos, 'null is not a value of a series; exists(x) tells whether x has a value');
      case 'dur': return this.fail(n.pos, `a duration (${n.text}) is a window, the last argument of a function such as avg(x, ${n.text})`);
      case 'ident': return { op: 'read', input: this.input(n.name, n.pos), ...this.leaf(n) };
      case 'unary': return { op: n.op === '-' ? 'neg' : 'not', arg: this.expr(n.arg), node: n };
      case 'between': return { op: 'between', arg: this.expr(n.arg), low: this.expr(n.low), high: this.expr(n.high), node: n };
      case 'binary':
        if (n.op === '=~') return this.fail(n.pos, '=~ matches text; the values of series are numbers');
        return { op: 'binary', bin: n.op, left: this.expr(n.left), right: this.expr(n.right), node: n };
      case 'call': return this.call(n);
    }
  }

  private call(n: Extract<Node, { kind: 'call' }>): Plan {
    const fn = n.fn;
    if (!this.functions.has(fn) || !SERIES_FUNCTION_NAMES.has(fn)) {
      return this.fail(n.pos, `unknown function "${fn}"; known functions: ${[...this.functions].filter((f) => SERIES_FUNCTION_NAMES.has(f)).sort().join(', ')}`);
    }
    if ((WINDOW_FNS as string[]).includes(fn)) {
      if (n.args.length !== 2) return this.fail(n.pos, `${fn}() takes a series and a window: ${fn}(homepage.total_ms, 5m) or ${fn}(homepage.total_ms, 20)`);
      const input = this.seriesArg(fn, n.args[0]);
      const window = this.windowArg(fn, n.args[1]);
      if (input === undefined || window === undefined) return dead(n.pos);
      this.widen(input, window);
      const events = fn === 'count' && window.kind === 'ms' && this.events?.(this.inputs[input]) === true;
      return { op: 'window', fn: fn as WindowFnName, input, window, ...(events ? { events: true as const } : {}), ...this.leaf(n) };
    }
    switch (fn) {
      case 'percentile': {
        if (n.args.length !== 3) return this.fail(n.pos, 'percentile() takes a series, a percentile and a window: percentile(homepage.total_ms, 95, 5m)');
        const input = this.seriesArg(fn, n.args[0]);
        const p = this.numberArg(fn, n.args[1], 'a percentile between 0 and 100', (x) => x >= 0 && x <= 100);
        const window = this.windowArg(fn, n.args[2]);
        if (input === undefined || p === undefined || window === undefined) return dead(n.pos);
        this.widen(input, window);
        return { op: 'percentile', input, p, window, ...this.leaf(n) };
      }
      case 'fraction': return this.fraction(n);
      case 'ewma': {
        if (n.args.length !== 2) return this.fail(n.pos, 'ewma() takes a series and a smoothing factor: ewma(homepage.total_ms, 0.2)');
        const input = this.seriesArg(fn, n.args[0]);
        const alpha = this.numberArg(fn, n.args[1], 'a smoothing factor above 0 and at most 1', (x) => x > 0 && x <= 1);
        if (input === undefined || alpha === undefined) return dead(n.pos);
        const state = this.ewmas.push({ input, alpha }) - 1;
        this.needs[input].count = Math.max(this.needs[input].count, Math.min(MAX_WINDOW_COUNT, forgetAfter(alpha)));
        return { op: 'ewma', input, alpha, state, ...this.leaf(n) };
      }
      case 'holt_winters': return this.holtWinters(n);
      default: return this.scalar(n, (a) => this.expr(a));
    }
  }

  /** scalar: exists() and the functions of pipe conditions, their arguments planned by sub. */
  private scalar(n: Extract<Node, { kind: 'call' }>, sub: (a: Node) => Plan): Plan {
    const fn = n.fn;
    if (fn === 'exists') {
      if (n.args.length !== 1) return this.fail(n.pos, 'exists() takes one value: exists(homepage.total_ms)');
      return { op: 'exists', arg: sub(n.args[0]), node: n };
    }
    if (!(SCALAR_FNS as string[]).includes(fn)) return this.fail(n.pos, `unknown function "${fn}"`);
    const most = fn === 'round' ? 2 : 1;
    if (n.args.length < 1 || n.args.length > most) {
      return this.fail(n.pos, fn === 'round' ? 'round() takes a value and optionally the digits to keep: round(x, 2)' : `${fn}() takes one value: ${fn}(x)`);
    }
    return { op: 'scalar', fn: fn as ScalarFn, args: n.args.map(sub), node: n };
  }

  /** fraction(cond, window): cond reads one series and no function of series; it is tested on each sample. */
  private fraction(n: Extract<Node, { kind: 'call' }>): Plan {
    if (n.args.length !== 2) return this.fail(n.pos, 'fraction() takes a condition and a window: fraction(homepage.total_ms < 200, 20)');
    const [condNode, windowNode] = n.args;
    const names = new Set<string>();
    let bad: Plan | undefined;
    const walk = (x: Node): void => {
      if (x.kind === 'ident') names.add(x.name);
      else if (x.kind === 'call' && SERIES_FUNCTION_NAMES.has(x.fn) && !(SCALAR_FNS as string[]).includes(x.fn)) {
        bad ??= this.fail(x.pos, `the condition of fraction() is tested on each sample; it cannot call ${x.fn}()`);
      } else if (x.kind === 'call') x.args.forEach(walk);
      else if (x.kind === 'unary') walk(x.arg);
      else if (x.kind === 'binary') { walk(x.left); walk(x.right); }
      else if (x.kind === 'between') { walk(x.arg); walk(x.low); walk(x.high); }
    };
    walk(condNode);
    if (bad) return bad;
    if (names.size !== 1) {
      const reason = names.size === 0
        ? 'the condition of fraction() must read one series, e.g. fraction(homepage.total_ms < 200, 20)'
        : `the condition of fraction() is tested on each sample of one series; it reads ${names.size}: ${[...names].join(', ')}`;
      return this.fail(firstIdent(condNode)?.pos ?? startOf(condNode), reason);
    }
    const [name] = names;
    const input = this.input(name, firstIdent(condNode)!.pos);
    const cond = this.condition(condNode);
    const window = this.windowArg('fraction', windowNode);
    if (window === undefined) return dead(n.pos);
    this.widen(input, window);
    return { op: 'fraction', input, cond, window, ...this.leaf(n) };
  }

  /** condition plans fraction's condition, the series being the sample's value. */
  private condition(n: Node): Plan {
    switch (n.kind) {
      case 'ident': return { op: 'sample', node: n };
      case 'unary': return { op: n.op === '-' ? 'neg' : 'not', arg: this.condition(n.arg), node: n };
      case 'between': return { op: 'between', arg: this.condition(n.arg), low: this.condition(n.low), high: this.condition(n.high), node: n };
      case 'binary':
        if (n.op === '=~') return this.fail(n.pos, '=~ matches text; the values of series are numbers');
        return { op: 'binary', bin: n.op, left: this.condition(n.left), right: this.condition(n.right), node: n };
      case 'call': return this.scalar(n, (a) => this.condition(a));
      default: return this.expr(n);
    }
  }

  private holtWinters(n: Extract<Node, { kind: 'call' }>): Plan {
    const usage = "holt_winters() takes a series, an output ('prediction', 'deviation' or 'failures'), a season in samples and optionally alpha, beta and gamma: holt_winters(homepage.total_ms, 'prediction', 288)";
    if (n.args.length < 3 || n.args.length > 6) return this.fail(n.pos, usage);
    const [s, out, season, alpha, beta, gamma] = n.args;
    const input = this.seriesArg('holt_winters', s);
    let output: HwOutput | undefined;
    if (out.kind !== 'str' || !(HW_OUTPUTS as string[]).includes(out.value)) {
      this.fail(out.pos, `the output of holt_winters() is 'prediction', 'deviation' or 'failures'; got ${show(out)}`);
    } else {
      output = out.value as HwOutput;
    }
    const P = this.numberArg('holt_winters', season, `a season of 2 to ${MAX_SEASON} samples (a whole number)`, (x) => Number.isInteger(x) && x >= 2 && x <= MAX_SEASON);
    const a = alpha ? this.numberArg('holt_winters', alpha, 'an alpha between 0 and 1 (both excluded)', (x) => x > 0 && x < 1) : HW_DEFAULT_ALPHA;
    const b = beta ? this.numberArg('holt_winters', beta, 'a beta from 0 to 1', (x) => x >= 0 && x <= 1) : HW_DEFAULT_BETA;
    const g = gamma ? this.numberArg('holt_winters', gamma, 'a gamma between 0 and 1 (both excluded)', (x) => x > 0 && x < 1) : a;
    if (input === undefined || output === undefined || P === undefined || a === undefined || b === undefined || g === undefined) return dead(n.pos);
    let model = this.models.findIndex((m) => m.input === input && m.season === P && m.alpha === a && m.beta === b && m.gamma === g);
    if (model < 0) model = this.models.push({ input, season: P, alpha: a, beta: b, gamma: g }) - 1;
    // Intercept and slope learn at each sample, the seasonal coefficients once a season.
    const history = Math.max(forgetAfter(a), b > 0 ? forgetAfter(b) : 0, forgetAfter(g) * P);
    this.needs[input].count = Math.max(this.needs[input].count, Math.min(MAX_HW_REBUILD, history));
    return { op: 'hw', input, output, model, ...this.leaf(n) };
  }

  /** seriesArg: the first argument of a function of series is a series name. */
  private seriesArg(fn: string, n: Node): number | undefined {
    if (n.kind === 'ident') return this.input(n.name, n.pos);
    this.fail(startOf(n), `the first argument of ${fn}() must be a series name, e.g. ${fn}(homepage.total_ms, ...); to use an expression, derive a series from it first`);
    return undefined;
  }

  /** windowArg: a duration literal or a whole number of samples. */
  private windowArg(fn: string, n: Node): WindowSpec | undefined {
    if (n.kind === 'dur') {
      if (n.ms <= 0) this.fail(n.pos, `a window must be longer than 0s; got ${n.text}`);
      else if (n.ms > MAX_WINDOW_MS) this.fail(n.pos, `a window is at most 400d long; got ${n.text}`);
      else return { kind: 'ms', n: n.ms, text: n.text };
      return undefined;
    }
    if (n.kind === 'num') {
      if (!Number.isInteger(n.value) || n.value < 1 || n.value > MAX_WINDOW_COUNT) {
        this.fail(n.pos, `a window of samples is a whole number from 1 to ${MAX_WINDOW_COUNT}; got ${show(n)}`);
        return undefined;
      }
      return { kind: 'count', n: n.value, text: show(n) };
    }
    this.fail(startOf(n), `the window of ${fn}() must be a duration like 5m or a number of samples like 20; got ${show(n)}`);
    return undefined;
  }

  /** numberArg: a parameter written as a number (a minus sign allowed), checked by ok(). */
  private numberArg(fn: string, n: Node, what: string, ok: (x: number) => boolean): number | undefined {
    const value = n.kind === 'num' ? n.value : n.kind === 'unary' && n.op === '-' && n.arg.kind === 'num' ? -n.arg.value : undefined;
    if (value === undefined || !ok(value)) {
      this.fail(startOf(n), `${fn}() takes ${what}; got ${show(n)}`);
      return undefined;
    }
    return value;
  }
}

/** dead stands for a part that failed (its problem is reported already). */
function dead(pos: number): Plan {
  return { op: 'const', value: NaN, node: { kind: 'num', value: NaN, pos } };
}

/** startOf is where a tree's text starts (a binary node's pos is its operator's). */
function startOf(n: Node): number {
  if (n.kind === 'binary') return startOf(n.left);
  if (n.kind === 'between') return startOf(n.arg);
  return n.pos;
}

/** firstIdent is the first series name in a tree, in reading order. */
function firstIdent(n: Node): Extract<Node, { kind: 'ident' }> | undefined {
  switch (n.kind) {
    case 'ident': return n;
    case 'unary': return firstIdent(n.arg);
    case 'binary': return firstIdent(n.left) ?? firstIdent(n.right);
    case 'between': return firstIdent(n.arg) ?? firstIdent(n.low) ?? firstIdent(n.high);
    case 'call': for (const a of n.args) { const f = firstIdent(a); if (f) return f; } return undefined;
    default: return undefined;
  }
}
