import { boundStep, storeRange } from '../range';
import { chooseArchive } from './fetch';
import { RrdFile } from './file';
import { Cf } from './types';

/** BoundedSeries: points `[t_ms, value | null]` at `step` ms, each the bucket ending at t. */
export interface BoundedSeries {
  step: number;
  points: Array<[number, number | null]>;
}

/**
 * fetchBounded is the store's read of one file: at most maxPoints points (plus one for
 * alignment) whatever the range, where RrdFile.fetch answers rrdtool's rows over all of it.
 *
 * The bucket step is the step asked for, made coarser when the range needs it (boundStep),
 * in whole seconds. The archive is the one rrdtool would pick for that step, and the
 * bucket step is rounded up to a multiple of the archive's, so every row falls in one
 * bucket. Only the rows that archive holds are read (the range clipped to it); each bucket
 * is the average of its known rows, null when none, so a step coarser than every archive
 * still answers buckets of that step, and a range far from the data costs no reads.
 * Buckets are aligned as rrd_fetch aligns rows: bucket k covers (start + kB, start + (k+1)B]
 * with start = from rounded down to B, up to to rounded up (a row's time is its end).
 */
export function fetchBounded(file: RrdFile, cf: Cf, fromMs: number, toMs: number, stepMs: number | undefined, maxPoints: number): BoundedSeries {
  const asked = stepMs !== undefined && stepMs > 0 ? stepMs : undefined;
  const range = storeRange({ from: fromMs, to: toMs });
  if (!range) return { step: asked ?? 0, points: [] };
  const from = Math.floor(range.from / 1000);
  const to = Math.ceil(range.to / 1000);
  const wish = Math.max(1, Math.ceil(boundStep(from * 1000, to * 1000, asked, maxPoints) / 1000));
  const { def, state } = file;
  const chosen = chooseArchive(def, state.lastUp, cf, from, to, wish);
  const rowStep = def.step * def.rra[chosen].pdpCnt;
  const step = Math.ceil(Math.max(wish, rowStep) / rowStep) * rowStep;
  const start = from - (from % step);
  const end = to + step - (to % step);
  const n = (end - start) / step;
  // Per bucket: the sum of its known rows and their count (NaN and 0 while none).
  const sum = new Float64Array(n).fill(NaN);
  const count = step === rowStep ? undefined : new Uint32Array(n);
  // The rows the archive holds end in [oldest, newest]; read those ending in (start, end].
  const newest = state.lastUp - (state.lastUp % rowStep);
  const oldest = newest - rowStep * (def.rra[chosen].rows - 1);
  const lo = Math.max(start, oldest - rowStep);
  const hi = Math.min(end, newest);
  if (hi > lo) {
    // rrd_fetch pads an aligned end by one row; ending at hi − 1 reads rows up to hi only.
    const r = file.fetch(cf, lo, hi - 1, rowStep);
    const nDs = r.names.length;
    for (let k = 0; k < r.rows; k++) {
      const v = r.data[k * nDs];
      const t = r.start + (k + 1) * r.step;
      if (Number.isNaN(v) || t <= start || t > end) continue;
      const i = Math.ceil((t - start) / step) - 1;
      if (count && count[i]++ > 0) sum[i] += v;
      else sum[i] = v; // the bucket's first known row (the only one when step = rowStep)
    }
  }
  const points: Array<[number, number | null]> = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = count && count[i] ? sum[i] / count[i] : sum[i];
    points[i] = [(start + (i + 1) * step) * 1000, Number.isNaN(v) ? null : v];
  }
  return { step: step * 1000, points };
}
