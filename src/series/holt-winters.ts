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
 */
export class HoltWinters {
  /** HWPREDICT of the last update. */
  prediction = NaN;
  /** DEVPREDICT of the last update. */
  deviation = NaN;
  /** FAILURES of the last update (0 or 1). */
  failure = 0;
  /** Updates so far. */
  steps = 0;

  private readonly season: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly gamma: number;
  private readonly threshold: number;
  private readonly deltaPos: number;
  private readonly deltaNeg: number;
  private readonly smoothingRow: number;
  // HWPREDICT's coefficients and their values before the last update.
  private a = NaN;
  private b = NaN;
  private n = 1;
  private la = NaN;
  private lb = NaN;
  private ln = 1;
  // SEASONAL: the coefficients by row, the one cached for this step and the one used last.
  private readonly coef: Float64Array;
  private coefNow = NaN;
  private coefUsed = NaN;
  private coefRow: number;
  private coefBurnIn = 1;
  // DEVSEASONAL, likewise.
  private readonly dev: Float64Array;
  private devNow = NaN;
  private devUsed = NaN;
  private devRow: number;
  private devBurnIn = 1;
  // FAILURES: the last `window` violations, newest first.
  private readonly violations: Uint8Array;

  constructor(o: HoltWintersOptions) {
    this.season = o.season;
    this.alpha = o.alpha ?? HW_DEFAULT_ALPHA;
    this.beta = o.beta ?? HW_DEFAULT_BETA;
    this.gamma = o.gamma ?? this.alpha;
    this.threshold = o.threshold ?? HW_THRESHOLD;
    this.deltaPos = o.deltaPos ?? HW_DELTA;
    this.deltaNeg = o.deltaNeg ?? HW_DELTA;
    this.smoothingRow = o.smoothingRow ?? 0;
    this.coef = new Float64Array(o.season).fill(NaN);
    this.dev = new Float64Array(o.season).fill(NaN);
    this.coefRow = o.seasonalRow ?? o.season - 1;
    this.devRow = o.deviationRow ?? o.season - 1;
    this.violations = new Uint8Array(o.window ?? HW_WINDOW);
  }

  /** update takes the next sample's value (NaN: unknown) and sets prediction, deviation and failure. */
  update(x: number): void {
    this.steps++;
    // Due smoothing is decided before this step's rows are written and applied after.
    const smoothCoef = this.smoothingDue('coef');
    const smoothDev = this.smoothingDue('dev');
    this.updatePrediction(x);
    this.updateCoefficient(x);
    this.updateDeviation(x);
    this.updateFailures(x);
    if (smoothCoef || smoothDev) {
      this.smooth(this.coef, true);
      this.smooth(this.dev, false);
    }
  }

  /** updatePrediction: HWPREDICT with this step's cached coefficient; learns intercept and slope. */
  private updatePrediction(x: number): void {
    this.la = this.a;
    this.lb = this.b;
    this.ln = this.n;
    const s = this.coefNow;
    if (Number.isNaN(this.a) || Number.isNaN(this.b) || Number.isNaN(s)) {
      this.prediction = NaN;
      if (Number.isNaN(this.a) && !Number.isNaN(x)) {
        this.a = this.la = x;
        this.b = this.lb = 0;
        this.n = this.ln = 1;
      }
      return;
    }
    this.prediction = this.a + this.b * this.n + s;
    if (Number.isNaN(x)) {
      this.n++;
      return;
    }
    const a = this.alpha * (x - s) + (1 - this.alpha) * (this.a + this.b * this.n);
    this.b = this.beta * (a - this.la) + (1 - this.beta) * this.b;
    this.a = a;
    this.n = 1;
  }

  /** updateCoefficient: SEASONAL; writes this step's row and caches the next step's coefficient. */
  private updateCoefficient(x: number): void {
    const P = this.season;
    const row = (this.coefRow + 1) % P;
    const used = this.coefNow;
    this.coefUsed = used;
    this.coefNow = this.coef[(this.coefRow + 2) % P];
    let out: number;
    if (Number.isNaN(x)) out = used;
    else if (Number.isNaN(this.la) || Number.isNaN(this.lb)) out = NaN;
    else if (Number.isNaN(used)) out = x - this.la;
    else out = this.gamma * (x - this.a) + (1 - this.gamma) * used;
    this.coef[row] = out;
    this.coefRow = row;
  }

  /** updateDeviation: DEVSEASONAL and DEVPREDICT (the deviation as it stood for this step). */
  private updateDeviation(x: number): void {
    const P = this.season;
    const row = (this.devRow + 1) % P;
    this.devUsed = this.devNow;
    this.devNow = this.dev[(this.devRow + 2) % P];
    this.deviation = this.devUsed;
    let out: number;
    if (Number.isNaN(this.la) || Number.isNaN(this.lb) || Number.isNaN(this.coefUsed)) {
      out = NaN;
    } else {
      const error = Math.abs(this.la + this.lb * this.ln + this.coefUsed - x);
      if (Number.isNaN(x)) out = this.devUsed;
      else if (Number.isNaN(this.devUsed)) out = error;
      else out = this.gamma * error + (1 - this.gamma) * this.devUsed;
    }
    this.dev[row] = out;
    this.devRow = row;
  }

  /** updateFailures: FAILURES, from the band this step was predicted with. */
  private updateFailures(x: number): void {
    let violation = 0;
    const d = this.devUsed;
    if (!Number.isNaN(d)) {
      const p = this.la + this.lb * this.ln + this.coefUsed;
      violation = Number.isNaN(x) || x > p + this.deltaPos * d || x < p - this.deltaNeg * d ? 1 : 0;
    }
    const v = this.violations;
    let count = violation;
    for (let i = v.length - 1; i > 0; i--) {
      v[i] = v[i - 1];
      count += v[i];
    }
    v[0] = violation;
    this.failure = count >= this.threshold ? 1 : 0;
  }

  /**
   * smoothingDue: in the first BURNIN_CYCLES seasons, at each season's end (counting
   * them); then when the row written is the smoothing row.
   */
  private smoothingDue(which: 'coef' | 'dev'): boolean {
    const cur = which === 'coef' ? this.coefRow : this.devRow;
    const P = this.season;
    if ((which === 'coef' ? this.coefBurnIn : this.devBurnIn) > BURNIN_CYCLES) {
      if (this.smoothingRow > cur) return cur + 1 >= this.smoothingRow;
      return cur + 1 >= P && cur + 1 >= P + this.smoothingRow;
    }
    if (cur + 1 < P) return false;
    if (which === 'coef') this.coefBurnIn++;
    else this.devBurnIn++;
    return true;
  }

  /**
   * smooth replaces a full seasonal array (no NaN) by its centred moving average over
   * 2k + 1 rows, k = ⌊5 % / 2 × season⌋, wrapping around; for the coefficients, their
   * mean then moves into the intercept.
   */
  private smooth(values: Float64Array, coefficients: boolean): void {
    const P = this.season;
    const k = Math.floor((HW_SMOOTHING_WINDOW / 2) * P);
    if (k === 0 || values.some(Number.isNaN)) return;
    const orig = Float64Array.from(values);
    const width = 2 * k + 1;
    const at = (i: number): number => orig[((i % P) + P) % P];
    let sum = 0;
    for (let i = -k; i < k; i++) sum += at(i);
    let mean = 0;
    for (let i = k; i < P + k; i++) {
      sum += at(i);
      const row = (((i - k) % P) + P) % P;
      values[row] = sum / width;
      mean += values[row];
      sum -= at(i - 2 * k);
    }
    if (!coefficients) return;
    mean /= P;
    for (let i = 0; i < P; i++) values[i] -= mean;
    this.a += mean;
  }
}
