import { Node, parse } from '../expr';
import { compileSeries, SERIES_FUNCTION_NAMES, SeriesEval, SeriesExpr } from '../series';
import type { SlaConfig } from './section';
import type { EvalResult, SlaSpec, TestEval } from './types';

/** Functions over a window of one series (their first argument is the series, the last the window). */
const WINDOW_FUNCTIONS = new Set(['avg', 'min', 'max', 'sum', 'count', 'last', 'delta', 'rate', 'stddev', 'percentile', 'fraction']);

/**
 * isCountTest tells whether a test is a count test (dwmon's scheduled check), evaluated at
 * the slots of `during` rather than on samples: it calls count() over a duration, and
 * every series it reads is read over a duration window, so its value is a function of the
 * time alone and can be computed for a missed slot from stored series.
 * `count(orders.new, 3m) between 5 and 20` is one; `homepage.fast_ratio >= 0.8` is not.
 */
export function isCountTest(src: string): boolean {
  let tree: Node;
  try {
    tree = parse(src, { functions: SERIES_FUNCTION_NAMES, durations: true });
  } catch {
    return false;
  }
  let counts = false;
  let bare = false;
  const walk = (n: Node, windowed: boolean): void => {
    switch (n.kind) {
      case 'ident': if (!windowed) bare = true; break;
      case 'call': {
        const last = n.args[n.args.length - 1];
        const overTime = WINDOW_FUNCTIONS.has(n.fn) && last?.kind === 'dur';
        if (overTime && n.fn === 'count') counts = true;
        n.args.forEach((a) => walk(a, windowed || overTime));
        break;
      }
      case 'unary': walk(n.arg, windowed); break;
      case 'binary': walk(n.left, windowed); walk(n.right, windowed); break;
      case 'between': walk(n.arg, windowed); walk(n.low, windowed); walk(n.high, windowed); break;
      default: break;
    }
  };
  walk(tree, false);
  return counts && !bare;
}

/** specOf is the SlaSpec of a built `slas:` entry. */
export function specOf(c: SlaConfig): SlaSpec {
  const spec: SlaSpec = {
    name: c.name,
    forMs: c.forMs,
    keepFiringForMs: c.keepFiringForMs,
    cooldownMs: c.cooldownMs,
    noData: c.noData,
    mode: c.slots ? 'slots' : 'samples',
    severity: c.severity,
    labels: c.labels,
    dependsOn: c.dependsOn,
  };
  if (c.during) spec.during = { cron: c.during.cron, tz: c.during.tz };
  if (!c.slots) spec.everyMs = c.everyMs;
  if (c.objective) spec.objective = { target: c.objective.target, windowMs: c.objective.windowMs };
  if (c.escalate !== undefined) spec.escalate = c.escalate;
  return spec;
}

/**
 * SeriesTest is an SLA test over live series: a compiled expression's instance fed with
 * the samples of its inputs (push) and evaluated at a time. An evaluation allocates
 * nothing: it answers one result object, whose message renders the latest evaluation when
 * read (the SLA reads it for a state change, its log record, or the API, before it
 * evaluates again).
 */
export class SeriesTest implements TestEval {
  readonly run: SeriesEval;
  private readonly condition: boolean;
  private readonly result: { value: number | boolean | undefined; readonly message: string };

  constructor(readonly expr: SeriesExpr) {
    const run = expr.instantiate();
    this.run = run;
    this.condition = expr.type === 'boolean';
    this.result = { value: undefined, get message() { return run.lastMessage(); } };
  }

  evaluate(at: number): EvalResult {
    const v = this.run.valueAt(at);
    this.result.value = v !== v ? undefined : this.condition ? v !== 0 : v;
    return this.result;
  }
}

/** compileTest compiles an SLA's condition (checked by the config already); count() over an event series adds its values. */
export function compileTest(c: SlaConfig, eventsOf?: (series: string) => boolean): SeriesExpr {
  return compileSeries(c.test, eventsOf ? { events: eventsOf } : {});
}
