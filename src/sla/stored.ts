import { history } from '../derive/rebuild';
import { createError, errorMessage } from '../errors';
import type { SeriesExpr } from '../series';
import type { Store } from '../store/store';
import type { SeriesInfo } from './feed';
import type { Backfill, Rebuild } from './set';
import { EvalResult, TestEval } from './types';

/** StoredOptions: where stored series are, and the test of each SLA by name. */
export interface StoredOptions extends SeriesInfo {
  store: Store;
  exprOf(name: string): SeriesExpr | undefined;
}

/** Timeline is the stored samples of an expression's inputs over a range, merged in time order. */
interface Timeline {
  t: Float64Array;
  v: Float64Array;
  series: string[];
  /** The series' stored spacing over its interval (≥ 1): how many live evaluations one stored point stands for. */
  weight: number;
}

/** Bound on the points of one read for a rebuild (the store answers coarser beyond). */
const REBUILD_POINTS = 100_000;

/**
 * readTimeline reads each input of expr from `from` (minus what its windows need) to `to`,
 * and merges them. `exact` (a backfill) reads rows at the series' interval, never a
 * coarser archive's; otherwise (a rebuild over an objective's 30 days) whatever resolution
 * the store keeps for the range, each point weighing for the live evaluations it covers.
 */
async function readTimeline(o: StoredOptions, expr: SeriesExpr, from: number, to: number, exact: boolean): Promise<Timeline> {
  const raw = o.store.status().kind === 'memory';
  const all: Array<[number, number, string]> = [];
  let weight = 1;
  for (const [series, need] of expr.needs) {
    if (!o.store.has(series)) continue;
    const interval = o.intervalOf(series);
    let points: Array<[number, number]>;
    if (exact) {
      points = await history(o.store, series, { ms: to - from + need.ms, count: need.count }, to, { raw, intervalMs: interval });
    } else {
      const data = await o.store.fetch(series, { from: from - need.ms, to, maxPoints: REBUILD_POINTS });
      points = [];
      for (const [t, v] of data.points) if (v !== null) points.push([t, v]);
    }
    for (const [t, v] of points) all.push([t, v, series]);
    if (interval && points.length > 1) {
      const spacing = (points[points.length - 1][0] - points[0][0]) / (points.length - 1);
      weight = Math.max(weight, spacing / interval);
    }
  }
  all.sort((a, b) => a[0] - b[0]);
  return { t: Float64Array.from(all, (x) => x[0]), v: Float64Array.from(all, (x) => x[1]), series: all.map((x) => x[2]), weight };
}

/**
 * backfillFrom is the SlaSet's Backfill over stored series: for the slots missed while the
 * node was down it reads the SLA's inputs from the store (each over the slots and the
 * windows before the first) and gives an evaluator that, asked about a slot, first takes
 * the stored samples up to it. An RRD answers rows at the series' interval, so a count
 * over it counts rows that have a value.
 */
export function backfillFrom(o: StoredOptions): Backfill {
  return async (name, from, to) => {
    const expr = o.exprOf(name);
    if (!expr) throw createError('REMON_ERR_SLA_BACKFILL', `SLA "${name}" has no test`);
    let tl: Timeline;
    try {
      tl = await readTimeline(o, expr, from, to, true);
    } catch (err) {
      throw createError('REMON_ERR_SLA_BACKFILL', `the store could not be read: ${errorMessage(err)}`, err);
    }
    const run = expr.instantiate();
    let next = 0;
    const hb = new Map(tl.series.map((s) => [s, o.heartbeatOf(s)]));
    return {
      evaluate(at: number): EvalResult {
        for (; next < tl.t.length && tl.t[next] <= at; next++) run.push(tl.series[next], tl.t[next], tl.v[next], hb.get(tl.series[next]));
        return run.evaluate(at);
      },
    } satisfies TestEval;
  };
}

/**
 * rebuildFrom is the SlaSet's Rebuild over stored series: an objective's good and bad
 * counts over its window are made by evaluating its condition at each stored sample time,
 * as the live node would have on each sample; each counts for as many live evaluations as
 * the stored spacing covers (an RRD's rows consolidated coarser than the interval).
 */
export function rebuildFrom(o: StoredOptions): Rebuild {
  return async (name, from, to, add) => {
    const expr = o.exprOf(name);
    if (!expr) return;
    const tl = await readTimeline(o, expr, from, to, true);
    const run = expr.instantiate();
    const hb = new Map(tl.series.map((s) => [s, o.heartbeatOf(s)]));
    const n = tl.t.length;
    for (let i = 0; i < n;) {
      const t = tl.t[i];
      for (; i < n && tl.t[i] === t; i++) run.push(tl.series[i], t, tl.v[i], hb.get(tl.series[i]));
      if (t < from || t >= to) continue;
      const v = run.evaluate(t).value;
      if (v === undefined || (typeof v === 'number' && v !== v)) continue;
      const good = v === true || (typeof v === 'number' && v !== 0);
      add(t, good ? tl.weight : 0, good ? 0 : tl.weight);
    }
  };
}
