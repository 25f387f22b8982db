/**
 * series: the expression language of derived series (src/derive) and SLA tests (src/sla).
 * This file is its stable API; the names below are what other subsystems import.
 *
 * - compileSeries(src, options?) → SeriesExpr: parses and checks once; throws
 *   REMON_ERR_EXPR_SYNTAX with `pos` (0-based) and `reason` for a problem. `expr.inputs` are
 *   the series it reads, `expr.needs` the history each must be given for an evaluation to
 *   be right (what a rebuild after a restart or a backfill reads from the store), `expr.type`
 *   'number' or 'boolean'.
 * - expr.instantiate() → SeriesEval: fresh, empty windows and state; one per use (a derived
 *   series, an SLA test, a backfill).
 * - run.push(series, t, value, heartbeatS?): each sample of each input, in time order per
 *   series (from the bus: BusMessage.samples, Sample.heartbeat as heartbeatS); other series
 *   are ignored, an older sample is dropped. NaN is an unknown value.
 * - run.pushInput(i, t, value, heartbeatS?): push for expr.inputs[i], for a caller that
 *   looks each series up once (derive's feed by block) rather than by name per sample.
 * - run.evaluate(at) → SeriesResult `{ value, message }`: value is a number, true/false for
 *   a condition, or undefined when unknown (never a silent 0 or false); message shows the
 *   values seen: `homepage.fast_ratio (0.65) >= 0.8`. A SeriesEval is therefore a TestEval
 *   of src/sla as it is. Evaluate at or after the newest sample pushed.
 * - run.valueAt(at) → number: evaluate for hot paths, nothing allocated (NaN unknown, 1/0
 *   for a condition); run.lastMessage() renders that evaluation's message when wanted.
 * - checkSeriesExpr(src, catalog, path, options?) → SectionIssue[]: every problem of an
 *   expression in a config value (syntax, arguments, unknown series with "did you mean"),
 *   positioned inside the text (exprPos), for a config section's check().
 * - seriesNames(src): the series an expression reads, with positions.
 *
 *     const e = compileSeries('homepage.fast_ratio >= 0.8');
 *     const run = e.instantiate();
 *     bus.subscribe('sla', (m) => { for (const s of m.samples) run.push(s.series, s.t, s.value, s.heartbeat); });
 *     const { value, message } = run.evaluate(clock.now()); // false, 'homepage.fast_ratio (0.65) >= 0.8'
 *
 * Cost: an instance is one object and one Float64Array (its windows, the values its
 * message shows, its ewma and Holt-Winters states; shape.ts, window.ts); expressions that
 * differ only in the series they read share their compiled closures. A push (once the
 * windows have their size) and valueAt make no objects, and 10,000 derived series or SLA
 * tests written from a few templates reach few cache lines per sample.
 */
export { compileSeries, checkSeriesExpr, seriesNames, SeriesEval, SeriesExpr, SeriesNeed, SeriesOptions, SeriesResult } from './expr';
export { SERIES_FUNCTION_NAMES, ValueType } from './plan';
export { formatValue, show } from './render';
export { HoltWinters, HoltWintersOptions, HwOutput } from './holt-winters';
