import { createError } from '../../errors';
import { Cf, RrdDef, RrdState } from './types';

/**
 * RowsReader copies `count` rows of archive `rra`, from row `first` on in the ring
 * (wrapping at its end), into `out`: row k's values (one per DS) at out[(at + k) × dsCnt].
 */
export type RowsReader = (rra: number, first: number, count: number, out: Float64Array, at: number) => void;

/** FetchResult: `data` holds `rows` × dsCnt values; row k is the step ending at start + (k + 1) × step. */
export interface FetchResult {
  start: number;
  end: number;
  step: number;
  names: string[];
  rows: number;
  data: Float64Array;
}

/**
 * chooseArchive picks the archive rrd_fetch.c (1.7) would: among archives of the CF (and
 * one-PDP archives of any CF), the covering one whose step is nearest the wish, else the
 * one covering most of the range.
 */
export function chooseArchive(def: RrdDef, lastUp: number, cf: Cf, start: number, end: number, step: number): number {
  let bestFull = -1;
  let bestFullDiff = 0;
  let bestPart = -1;
  let bestPartDiff = 0;
  let bestMatch = 0;
  def.rra.forEach((rra, i) => {
    // A one-PDP row is the same under every CF, so rrdtool 1.7 serves any CF from it.
    if (rra.cf !== cf && rra.pdpCnt !== 1) return;
    const rraStep = def.step * rra.pdpCnt;
    const calEnd = lastUp - (lastUp % rraStep);
    const calStart = calEnd - rraStep * rra.rows;
    const fullMatch = end - start;
    const diff = Math.abs(step - rraStep);
    if (calStart <= start) {
      if (bestFull < 0 || diff < bestFullDiff) {
        bestFull = i;
        bestFullDiff = diff;
      }
    } else {
      let match = fullMatch;
      if (calStart > start) match -= calStart - start;
      if (bestPart < 0 || bestMatch < match || (bestMatch === match && diff < bestPartDiff)) {
        bestPart = i;
        bestMatch = match;
        bestPartDiff = diff;
      }
    }
  });
  if (bestFull >= 0) return bestFull;
  if (bestPart >= 0) return bestPart;
  throw createError('REMON_ERR_RRD_FETCH', 'the RRD does not contain an RRA matching the chosen CF');
}

/**
 * fetchRows reads a range the way rrd_fetch.c does: the archive is chosen by coverage and
 * step, start is aligned down and end up to the archive step, and rows outside what the
 * archive holds are NaN.
 */
export function fetchRows(def: RrdDef, s: Pick<RrdState, 'lastUp' | 'curRow'>, read: RowsReader, cf: Cf, start: number, end: number, wantStep: number): FetchResult {
  if (end < start) throw createError('REMON_ERR_RRD_FETCH', `start (${start}) should be less than end (${end})`);
  if (wantStep < 1) throw createError('REMON_ERR_RRD_FETCH', 'step must be >= 1 second');
  const chosen = chooseArchive(def, s.lastUp, cf, start, end, wantStep);
  const rra = def.rra[chosen];
  const nDs = def.ds.length;
  const step = def.step * rra.pdpCnt;
  start -= start % step;
  end += step - (end % step);
  const rows = (end - start) / step + 1;
  const data = new Float64Array(rows * nDs).fill(NaN);
  const rraEnd = s.lastUp - (s.lastUp % step);
  const rraStart = rraEnd - step * (rra.rows - 1);
  const startOffset = Math.trunc((start + step - rraStart) / step);
  const endOffset = Math.trunc((rraEnd - end) / step);
  // Output row k is the archive's slot startOffset + k (0 the oldest it holds); the slots
  // it holds, from..to − 1, are read in one go from their row in the ring on; the rest stay NaN.
  const from = Math.max(0, startOffset);
  const to = Math.min(rra.rows, rra.rows - endOffset);
  if (to > from) read(chosen, (s.curRow[chosen] + 1 + from) % rra.rows, to - from, data, from - startOffset);
  return { start, end, step, names: def.ds.map((d) => d.name), rows: rows - 1, data };
}
