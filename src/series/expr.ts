import type { SeriesCatalog } from '../config/catalog';
import type { Path, SectionIssue } from '../config/section';
import { Node, parse } from '../expr';
import { syntax } from '../expr/lexer';
import { Evaluation } from './eval';
import { analyze, Analysis, SERIES_FUNCTION_NAMES, ValueType } from './plan';
import { show } from './render';

/**
 * The contract of series expressions, shared by derived series (src/derive) and SLA tests
 * (src/sla): compile once, instantiate per use, push the samples of the series it reads,
 * evaluate at a time.
 *
 *     const e = compileSeries('fraction(homepage.total_ms < 200, 20) >= 0.8');
 *     const run = e.instantiate();                 // its own windows and state
 *     run.push('homepage.total_ms', t, 180, 20);   // each sample of each input, in time order
 *     const { value, message } = run.evaluate(t);  // true | false | undefined (unknown)
 *
 * Unknown is `undefined`: a series without a sample, with its last sample older than its
 * heartbeat, an empty window, a division by zero. It propagates through arithmetic and
 * comparisons; `and`, `or` and `not` follow Kleene's logic (`false and unknown` is false,
 * `true or unknown` is true), so a missing input is never a silent 0 or false.
 */

/** SeriesOptions restricts which functions an expression may call (SERIES_FUNCTION_NAMES when absent). */
export interface SeriesOptions {
  functions?: ReadonlySet<string>;
  /**
   * events tells which series are event series: each sample is a number of events (the
   * sql block's `<block>.new`, new keys per bucket), so count() over a duration window adds
   * the values, the number of events, rather than counting samples.
   */
  events?: (series: string) => boolean;
}

/** SeriesNeed is the history one input needs: its longest window in ms and in samples. */
export interface SeriesNeed {
  ms: number;
  count: number;
}

/** SeriesExpr is a compiled series expression. */
export interface SeriesExpr {
  /** The text it was compiled from (for a tree: the tree written in canonical form). */
  readonly source: string;
  /** The series it reads, in order of first use. */
  readonly inputs: readonly string[];
  /**
   * needs: per input, the history to replay after a restart for evaluations to be what
   * they would have been: the samples of the last `ms` and at least the last `count`
   * (stateful functions ask for enough that the samples before weigh < 1e-6 in their state:
   * ewma(s, 0.3) 39 samples; holt_winters with the defaults and a season of P samples
   * 132 seasons, at most 60,480 samples).
   */
  readonly needs: ReadonlyMap<string, SeriesNeed>;
  /** What it gives: a number, or true/false (a condition). */
  readonly type: ValueType;
  /** instantiate makes fresh windows and state, empty. */
  instantiate(): SeriesEval;
}

/** SeriesResult is one evaluation: undefined is unknown; the message shows the values seen. */
export interface SeriesResult {
  readonly value: number | boolean | undefined;
  /**
   * The expression with each series it read followed by its value, as a failing test
   * should read: `homepage.fast_ratio (0.65) >= 0.8`, `count(orders.new, 3m) (3) between 5
   * and 20`, `homepage.total_ms (unknown: no sample) < 200`. Rendered when read (a getter).
   */
  readonly message: string;
}

/** SeriesEval is one instance of a compiled expression: its windows and state. */
export interface SeriesEval {
  /**
   * push adds a sample of a series the expression reads (others are ignored). Each
   * series' samples come in time order (an older one is dropped); heartbeatS is the
   * sample's heartbeat hint (Sample.heartbeat): later than that, its value is unknown.
   */
  push(series: string, t: number, value: number, heartbeatS?: number): void;
  /**
   * pushInput is push for the i-th series of SeriesExpr.inputs, for a caller that looked
   * the series up once (a bus subscriber indexing its inputs) rather than per sample; an
   * i that is not an input's index is ignored.
   */
  pushInput(i: number, t: number, value: number, heartbeatS?: number): void;
  /**
   * evaluate computes the expression at `at` (epoch ms): duration windows are the samples
   * in (at − d, at], sample windows the last n at or before `at`; stateful functions
   * (ewma, holt_winters) are as of the newest sample pushed. A window keeps what it needs
   * as of its newest sample (the last d ms, the last n samples), so evaluate at or after
   * the newest sample pushed: earlier, what it dropped is missing.
   */
  evaluate(at: number): SeriesResult;
  /**
   * valueAt is evaluate for hot paths: the value alone, as a number (NaN when unknown, 1 or
   * 0 for a condition), nothing allocated; lastMessage() then renders its message, until
   * the next evaluation.
   */
  valueAt(at: number): number;
  /** lastMessage renders the message of the last evaluation. */
  lastMessage(): string;
}

/** CompiledSeries is what compileSeries returns. */
class CompiledSeries implements SeriesExpr {
  readonly inputs: readonly string[];
  readonly needs: ReadonlyMap<string, SeriesNeed>;
  readonly type: ValueType;

  constructor(readonly source: string, private readonly analysis: Analysis) {
    this.inputs = Object.freeze([...analysis.inputs]);
    this.needs = new Map(analysis.inputs.map((name, i) => [name, { ...analysis.needs[i] }]));
    this.type = analysis.type;
  }

  instantiate(): SeriesEval {
    return new Evaluation(this.analysis);
  }
}

/** parseSeries parses a series expression: durations are windows, functions those of series. */
function parseSeries(src: string, options: SeriesOptions): Node {
  return parse(src, { functions: options.functions ?? SERIES_FUNCTION_NAMES, durations: true });
}

/**
 * compileSeries checks and compiles a series expression. A problem throws
 * REMON_ERR_EXPR_SYNTAX with `pos` (0-based) and `reason`, like parse(): a syntax error, a
 * function that does not exist, wrong arguments (`avg(x)`, a window of 0s), fraction's
 * condition over more than one series. Series names are not checked here (checkSeriesExpr
 * does, against a catalog).
 */
export function compileSeries(src: string | Node, options: SeriesOptions = {}): SeriesExpr {
  const source = typeof src === 'string' ? src : show(src);
  const node = typeof src === 'string' ? parseSeries(src, options) : src;
  const a = analyze(node, options.functions ?? SERIES_FUNCTION_NAMES, options.events);
  if (a.problems.length > 0) throw syntax(source, a.problems[0].pos, a.problems[0].reason);
  return new CompiledSeries(source, a);
}

/**
 * checkSeriesExpr finds every problem of a series expression in a config value at `path`,
 * as positioned issues (exprPos inside the text): its syntax, wrong arguments, and each
 * series name the catalog does not know, with "did you mean".
 */
export function checkSeriesExpr(src: string, catalog: SeriesCatalog, path: Path, options: SeriesOptions = {}): SectionIssue[] {
  let node: Node;
  try {
    node = parseSeries(src, options);
  } catch (err) {
    const e = err as Error & { pos?: number; reason?: string };
    return [{ path, message: e.reason ?? e.message, exprPos: e.pos }];
  }
  const a = analyze(node, options.functions ?? SERIES_FUNCTION_NAMES);
  const issues: SectionIssue[] = a.problems.map((p) => ({ path, message: p.reason, exprPos: p.pos }));
  for (const ref of a.refs) {
    const issue = catalog.check(ref.name, path);
    if (issue) issues.push({ ...issue, exprPos: ref.pos });
  }
  return issues.sort((x, y) => (x.exprPos ?? 0) - (y.exprPos ?? 0));
}

/** seriesNames lists the series an expression reads (none when it does not parse). */
export function seriesNames(src: string): Array<{ name: string; pos: number }> {
  try {
    return analyze(parseSeries(src, {}), SERIES_FUNCTION_NAMES).refs;
  } catch {
    return [];
  }
}
