/** HwOutput is what holt_winters() gives: rrdtool's HWPREDICT, DEVPREDICT or FAILURES. */
export type HwOutput = 'prediction' | 'deviation' | 'failures';

/** HW_OUTPUTS lists the outputs in the order the docs name them. */
export const HW_OUTPUTS: readonly HwOutput[] = ['prediction', 'deviation', 'failures'];

/** rrdtool's defaults: the initial alpha and beta of an HWPREDICT RRA; gamma is alpha. */
export const HW_DEFAULT_ALPHA = 0.1;
export const HW_DEFAULT_BETA = 1 / 288;
/** rrdtool's FAILURES defaults: 7 violations in a window of 9 samples, a band of ±2 deviations. */
export const HW_THRESHOLD = 7;
export const HW_WINDOW = 9;
export const HW_DELTA = 2;
/** The seasonal smoothing of an RRD of version 3: a moving average over 5 % of the season. */
export const HW_SMOOTHING_WINDOW = 0.05;
/** Seasons smoothed at their end while the model burns in, before the smoothing index rules. */
const BURNIN_CYCLES = 3;

/** HoltWintersOptions: the season in samples and the smoothing factors (rrdtool's parameter names). */
export interface HoltWintersOptions {
  season: number;
  alpha?: number;
  beta?: number;
  /** Seasonal smoothing for the coefficients and the deviations (default alpha, as rrdtool's). */
  gamma?: number;
  threshold?: number;
  window?: number;
  deltaPos?: number;
  deltaNeg?: number;
  /**
   * Where the season starts, as rrdtool's `cur_row` of the SEASONAL and DEVSEASONAL
   * archives before the first sample (the row last written; default season − 1, so the
   * first sample is row 0), and its smoothing row (`hash % season` in rrdtool, default 0).
   * rrdtool picks the first two at random and the third from the file name; they exist
   * to reproduce a given RRD's numbers exactly.
   */
  seasonalRow?: number;
  deviationRow?: number;
  smoothingRow?: number;
}

// A model's numbers, from its base in a Float64Array: parameters, then state, then the
// SEASONAL and DEVSEASONAL rows (season each) and the last `window` violations (newest
// first). One array, so that an update reaches one object and a few cache lines.
const SEASON = 0;
const ALPHA = 1;
const BETA = 2;
const GAMMA = 3;
const THRESHOLD = 4;
const WINDOW = 5;
const DELTA_POS = 6;
const DELTA_NEG = 7;
const SMOOTHING_ROW = 8;
/** HWPREDICT, DEVPREDICT and FAILURES of the last update, and the updates so far. */
export const HW_PREDICTION = 9;
export const HW_DEVIATION = 10;
export const HW_FAILURE = 11;
export const HW_STEPS = 12;
// HWPREDICT's coefficients and their values before the last update.
const A = 13;
const B = 14;
const N = 15;
const LA = 16;
const LB = 17;
const LN = 18;
// SEASONAL: the coefficient cached for this step, the one used last, the row last written, burn-in seasons.
const COEF_NOW = 19;
const COEF_USED = 20;
const COEF_ROW = 21;
const COEF_BURN_IN = 22;
// DEVSEASONAL, likewise.
const DEV_NOW = 23;
const DEV_USED = 24;
const DEV_ROW = 25;
const DEV_BURN_IN = 26;
const HEADER = 27;

/** hwLength: the numbers a model of this season (and failure window) takes. */
export function hwLength(season: number, window = HW_WINDOW): number {
  return HEADER + 2 * season + window;
}

/** hwInit sets up a model at d[base ...] (hwLength numbers), before its first update. */
export function hwInit(d: Float64Array, base: number, o: HoltWintersOptions): void {
  const P = o.season;
  const alpha = o.alpha ?? HW_DEFAULT_ALPHA;
  const window = o.window ?? HW_WINDOW;
  d.fill(0, base, base + hwLength(P, window));
  d[base + SEASON] = P;
  d[base + ALPHA] = alpha;
  d[base + BETA] = o.beta ?? HW_DEFAULT_BETA;
  d[base + GAMMA] = o.gamma ?? alpha;
  d[base + THRESHOLD] = o.threshold ?? HW_THRESHOLD;
  d[base + WINDOW] = window;
  d[base + DELTA_POS] = o.deltaPos ?? HW_DELTA;
  d[base + DELTA_NEG] = o.deltaNeg ?? HW_DELTA;
  d[base + SMOOTHING_ROW] = o.smoothingRow ?? 0;
  d[base + HW_PREDICTION] = NaN;
  d[base + HW_DEVIATION] = NaN;
  d[base + A] = NaN;
  d[base + B] = NaN;
  d[base + N] = 1;
  d[base + LA] = NaN;
  d[base + LB] = NaN;
  d[base + LN] = 1;
  d[base + COEF_NOW] = NaN;
  d[base + COEF_USED] = NaN;
  d[base + COEF_ROW] = o.seasonalRow ?? P - 1;
  d[base + COEF_BURN_IN] = 1;
  d[base + DEV_NOW] = NaN;
  d[base + DEV_USED] = NaN;
  d[base + DEV_ROW] = o.deviationRow ?? P - 1;
  d[base + DEV_BURN_IN] = 1;
  d.fill(NaN, base + HEADER, base + HEADER + 2 * P);
}

/** hwUpdate takes the next sample's value (NaN: unknown) into the model at d[base ...], setting prediction, deviation and failure. */
export function hwUpdate(d: Float64Array, base: number, x: number): void {
  d[base + HW_STEPS]++;
  // Due smoothing is decided before this step's rows are written and applied after.
  const smoothCoef = smoothingDue(d, base, COEF_ROW, COEF_BURN_IN);
  const smoothDev = smoothingDue(d, base, DEV_ROW, DEV_BURN_IN);
  updatePrediction(d, base, x);
  updateCoefficient(d, base, x);
  updateDeviation(d, base, x);
  updateFailures(d, base, x);
  if (smoothCoef || smoothDev) {
    const P = d[base + SEASON];
    smooth(d, base, base + HEADER, true);
    smooth(d, base, base + HEADER + P, false);
  }
}

/**
 * HoltWinters is RRDtool's aberrant-behaviour detection (Brutlag, 2000) with additive
 * seasonality, one update per sample, as `rrdtool update` computes the HWPREDICT,
 * SEASONAL, DEVSEASONAL, DEVPREDICT and FAILURES archives of one data source when each
 * update closes one step:
 *
 * - prediction = intercept + slope × steps since the last known value + seasonal coefficient;
 *   the first sample sets the intercept; the first season learns the coefficients (value −
 *   first value) and predicts nothing (NaN); the intercept and slope learn from the second.
 * - deviation is the smoothed absolute error of the predictions at this point of the
 *   season, as it stood before this sample (NaN until the second season is done).
 * - failures is 1 when at least `threshold` of the last `window` samples were outside
 *   prediction ± delta × deviation (an unknown value counts as outside), else 0.
 * - The seasonal coefficients and deviations are smoothed with a centred moving average
 *   over 5 % of the season at the end of each of the first seasons and then once a
 *   season; the coefficients' mean moves into the intercept then.
 *
 * A NaN value is rrdtool's unknown: the intercept and slope wait, coefficients and
 * deviations keep their values, and it counts as a violation.
 *
 * The model lives in a Float64Array (hwInit, hwUpdate): series expressions keep it inside
 * their evaluation's array; this class holds one of its own.
 */
export class HoltWinters {
  private readonly d: Float64Array;

  constructor(o: HoltWintersOptions) {
    this.d = new Float64Array(hwLength(o.season, o.window));
    hwInit(this.d, 0, o);
  }

  /** HWPREDICT of the last update. */
  get prediction(): number {
    return this.d[HW_PREDICTION];
  }

  /** DEVPREDICT of the last update. */
  get deviation(): number {
    return this.d[HW_DEVIATION];
  }

  /** FAILURES of the last update (0 or 1). */
  get failure(): number {
    return this.d[HW_FAILURE];
  }

  /** Updates so far. */
  get steps(): number {
    return this.d[HW_STEPS];
  }

  /** update takes the next sample's value (NaN: unknown) and sets prediction, deviation and failure. */
  update(x: number): void {
    hwUpdate(this.d, 0, x);
  }
}

/** updatePrediction: HWPREDICT with this step's cached coefficient; learns intercept and slope. */
function updatePrediction(d: Float64Array, m: number, x: number): void {
  const a = d[m + A];
  const b = d[m + B];
  d[m + LA] = a;
  d[m + LB] = b;
  d[m + LN] = d[m + N];
  const s = d[m + COEF_NOW];
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(s)) {
    d[m + HW_PREDICTION] = NaN;
    if (Number.isNaN(a) && !Number.isNaN(x)) {
      d[m + A] = d[m + LA] = x;
      d[m + B] = d[m + LB] = 0;
      d[m + N] = d[m + LN] = 1;
    }
    return;
  }
  const n = d[m + N];
  d[m + HW_PREDICTION] = a + b * n + s;
  if (Number.isNaN(x)) {
    d[m + N] = n + 1;
    return;
  }
  const alpha = d[m + ALPHA];
  const beta = d[m + BETA];
  const next = alpha * (x - s) + (1 - alpha) * (a + b * n);
  d[m + B] = beta * (next - a) + (1 - beta) * b;
  d[m + A] = next;
  d[m + N] = 1;
}

/** updateCoefficient: SEASONAL; writes this step's row and caches the next step's coefficient. */
function updateCoefficient(d: Float64Array, m: number, x: number): void {
  // Rows and the season are whole numbers: as int32, % is an integer division.
  const P = d[m + SEASON] | 0;
  const rows = m + HEADER;
  const cur = d[m + COEF_ROW] | 0;
  const row = (cur + 1) % P;
  const used = d[m + COEF_NOW];
  d[m + COEF_USED] = used;
  d[m + COEF_NOW] = d[rows + ((cur + 2) % P)];
  const gamma = d[m + GAMMA];
  let out: number;
  if (Number.isNaN(x)) out = used;
  else if (Number.isNaN(d[m + LA]) || Number.isNaN(d[m + LB])) out = NaN;
  else if (Number.isNaN(used)) out = x - d[m + LA];
  else out = gamma * (x - d[m + A]) + (1 - gamma) * used;
  d[rows + row] = out;
  d[m + COEF_ROW] = row;
}

/** updateDeviation: DEVSEASONAL and DEVPREDICT (the deviation as it stood for this step). */
function updateDeviation(d: Float64Array, m: number, x: number): void {
  const P = d[m + SEASON] | 0;
  const rows = m + HEADER + P;
  const cur = d[m + DEV_ROW] | 0;
  const row = (cur + 1) % P;
  const used = d[m + DEV_NOW];
  d[m + DEV_USED] = used;
  d[m + DEV_NOW] = d[rows + ((cur + 2) % P)];
  d[m + HW_DEVIATION] = used;
  const la = d[m + LA];
  const lb = d[m + LB];
  const coefUsed = d[m + COEF_USED];
  const gamma = d[m + GAMMA];
  let out: number;
  if (Number.isNaN(la) || Number.isNaN(lb) || Number.isNaN(coefUsed)) {
    out = NaN;
  } else {
    const error = Math.abs(la + lb * d[m + LN] + coefUsed - x);
    if (Number.isNaN(x)) out = used;
    else if (Number.isNaN(used)) out = error;
    else out = gamma * error + (1 - gamma) * used;
  }
  d[rows + row] = out;
  d[m + DEV_ROW] = row;
}

/** updateFailures: FAILURES, from the band this step was predicted with. */
function updateFailures(d: Float64Array, m: number, x: number): void {
  let violation = 0;
  const dev = d[m + DEV_USED];
  if (!Number.isNaN(dev)) {
    const p = d[m + LA] + d[m + LB] * d[m + LN] + d[m + COEF_USED];
    violation = Number.isNaN(x) || x > p + d[m + DELTA_POS] * dev || x < p - d[m + DELTA_NEG] * dev ? 1 : 0;
  }
  const v = m + HEADER + 2 * d[m + SEASON];
  let count = violation;
  for (let i = d[m + WINDOW] - 1; i > 0; i--) {
    d[v + i] = d[v + i - 1];
    count += d[v + i];
  }
  d[v] = violation;
  d[m + HW_FAILURE] = count >= d[m + THRESHOLD] ? 1 : 0;
}

/**
 * smoothingDue: in the first BURNIN_CYCLES seasons, at each season's end (counting
 * them); then when the row written is the smoothing row.
 */
function smoothingDue(d: Float64Array, m: number, rowAt: number, burnInAt: number): boolean {
  const cur = d[m + rowAt];
  const P = d[m + SEASON];
  if (d[m + burnInAt] > BURNIN_CYCLES) {
    const smoothingRow = d[m + SMOOTHING_ROW];
    if (smoothingRow > cur) return cur + 1 >= smoothingRow;
    return cur + 1 >= P && cur + 1 >= P + smoothingRow;
  }
  if (cur + 1 < P) return false;
  d[m + burnInAt]++;
  return true;
}

/**
 * smooth replaces a full seasonal array (the season's rows at d[rows ...], no NaN) by its
 * centred moving average over 2k + 1 rows, k = ⌊5 % / 2 × season⌋, wrapping around; for
 * the coefficients, their mean then moves into the intercept.
 */
function smooth(d: Float64Array, m: number, rows: number, coefficients: boolean): void {
  const P = d[m + SEASON];
  const k = Math.floor((HW_SMOOTHING_WINDOW / 2) * P);
  if (k === 0) return;
  for (let i = 0; i < P; i++) if (Number.isNaN(d[rows + i])) return;
  const orig = d.slice(rows, rows + P);
  const width = 2 * k + 1;
  const at = (i: number): number => orig[((i % P) + P) % P];
  let sum = 0;
  for (let i = -k; i < k; i++) sum += at(i);
  let mean = 0;
  for (let i = k; i < P + k; i++) {
    sum += at(i);
    const row = (((i - k) % P) + P) % P;
    d[rows + row] = sum / width;
    mean += d[rows + row];
    sum -= at(i - 2 * k);
  }
  if (!coefficients) return;
  mean /= P;
  for (let i = 0; i < P; i++) d[rows + i] -= mean;
  d[m + A] += mean;
}
