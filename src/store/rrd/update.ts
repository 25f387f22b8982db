import { createError } from '../../errors';
import { rrdStrtod } from './strtod';
import { Cf, RrdDef, RrdState } from './types';

/**
 * RowSink receives the archive rows an update completes, oldest first: archives rra …
 * rra + count − 1 (consecutive ones of the same steps and rows, which advance together)
 * all get row `row`, their values side by side in src[offset .. offset + count × dsCnt).
 */
export type RowSink = (rra: number, count: number, row: number, src: Float64Array, offset: number) => void;

/**
 * Updater applies updates to an RRD exactly as rrdtool's rrd_update.c does: rates per DS
 * type, heartbeat and min/max turning values unknown, time-weighted primary data points
 * with the "more than half the step unknown" rule, and consolidation into every archive
 * with its xff. It owns scratch buffers, so one Updater serves many files in turn.
 */
export class Updater {
  private pdpNew = new Float64Array(0);
  private openPdpNew = new Float64Array(0);
  private pdpTemp = new Float64Array(0);
  private stepCnt = new Float64Array(0);
  private plan?: Plan;
  private planDef?: RrdDef;

  /**
   * update applies one update at `time` (seconds, fractions allowed) with one value per DS:
   * a number, or a string as rrdtool takes it ("U" unknown; integers for COUNTER/DERIVE).
   * Throws REMON_ERR_RRD_UPDATE for a time not after the last update or a bad value.
   */
  update(def: RrdDef, s: RrdState, time: number, values: ReadonlyArray<string | number>, sink: RowSink): void {
    const nDs = def.ds.length;
    const nRra = def.rra.length;
    if (values.length !== nDs) throw createError('REMON_ERR_RRD_UPDATE', `expected ${nDs} data source readings (got ${values.length})`);
    const currentTime = Math.floor(time);
    const currentUsec = Math.trunc((time - currentTime) * 1e6);
    if (currentTime < s.lastUp || (currentTime === s.lastUp && currentUsec <= s.lastUpUsec)) {
      throw createError('REMON_ERR_RRD_UPDATE', `illegal attempt to update using time ${currentTime} when last update time is ${s.lastUp} (minimum one second step)`);
    }
    if (this.pdpNew.length < nDs) {
      this.pdpNew = new Float64Array(nDs);
      this.openPdpNew = new Float64Array(nDs);
      this.pdpTemp = new Float64Array(nDs);
    }
    if (this.stepCnt.length < nRra) this.stepCnt = new Float64Array(nRra);
    let interval = currentTime - s.lastUp + (currentUsec - s.lastUpUsec) / 1e6;
    this.check(def, values, interval);
    this.prepare(def, s, interval, values);

    // calculate_elapsed_steps, from the steps holding the last and the current update: C's
    // integer division of whole seconds, exact by trunc below 2^53 (no fmod).
    const step = def.step;
    const lastStep = Math.trunc(s.lastUp / step);
    const currentStep = Math.trunc(currentTime / step);
    const procPdpSt = lastStep * step;
    const occuPdpSt = currentStep * step;
    const occuPdpAge = currentTime - occuPdpSt;
    let preInt: number;
    let postInt: number;
    if (occuPdpSt > procPdpSt) {
      preInt = occuPdpSt - s.lastUp - s.lastUpUsec / 1e6;
      postInt = occuPdpAge + currentUsec / 1e6;
    } else {
      preInt = interval;
      postInt = 0;
    }
    let procPdpCnt = lastStep;
    let elapsed = currentStep - lastStep;

    if (elapsed === 0) {
      this.simpleUpdate(s, nDs, interval);
    } else {
      // rrdtool 1.7 closes a partly filled first PDP on its own ("JKammler bugfix"): its
      // share of the new value goes to it alone, then the remaining steps are processed.
      const secOpen = elapsed > 1 ? Math.trunc(preInt) % step : 0;
      if (secOpen > 0) {
        for (let d = 0; d < nDs; d++) {
          const v = this.pdpNew[d];
          if (!Number.isNaN(v) && interval > 0) {
            this.openPdpNew[d] = (v * secOpen) / interval;
            this.pdpNew[d] = v - this.openPdpNew[d];
          } else {
            this.openPdpNew[d] = NaN;
          }
        }
        this.processPdpSt(def, s, this.openPdpNew, secOpen, secOpen, 0, step);
        this.updateCdps(def, s, 1, procPdpCnt);
        this.writeRows(def, s, sink);
        interval -= secOpen;
        preInt -= secOpen;
        elapsed--;
        procPdpCnt++;
      }
      this.processPdpSt(def, s, this.pdpNew, interval, preInt, postInt, elapsed * step);
      this.updateCdps(def, s, elapsed, procPdpCnt);
      this.writeRows(def, s, sink);
    }
    s.lastUp = currentTime;
    s.lastUpUsec = currentUsec;
  }

  /** check refuses a bad value (as rrdtool would) before anything changes, so a failed update leaves no trace. */
  private check(def: RrdDef, values: ReadonlyArray<string | number>, interval: number): void {
    for (let i = 0; i < def.ds.length; i++) {
      const raw = values[i];
      if (def.ds[i].heartbeat < interval) continue; // rrdtool does not even parse it then
      const type = def.ds[i].type;
      if (typeof raw === 'string') {
        if (raw[0] === 'U') continue;
        if (type === 'COUNTER' || type === 'DERIVE') {
          if (!(type === 'DERIVE' ? /^-?\d+$/ : /^\d+$/).test(raw)) throw notInteger(type, raw);
        } else {
          toDouble(raw);
        }
      } else if ((type === 'COUNTER' || type === 'DERIVE') && !Number.isNaN(raw) && (!Number.isInteger(raw) || (type === 'COUNTER' && raw < 0))) {
        throw notInteger(type, raw);
      }
    }
  }

  /** prepare fills pdpNew (rate × seconds) per DS: update_pdp_prep. */
  private prepare(def: RrdDef, s: RrdState, interval: number, values: ReadonlyArray<string | number>): void {
    for (let i = 0; i < def.ds.length; i++) {
      const ds = def.ds[i];
      const raw = values[i];
      // Numbers (in-process writes) skip rrdtool's text handling; text follows it exactly.
      const text = typeof raw === 'string' ? raw : undefined;
      const unknown = text !== undefined ? text[0] === 'U' : Number.isNaN(raw as number);
      if (ds.heartbeat < interval) {
        s.lastDs[i] = 'U';
        s.lastDsNum[i] = NaN;
      }
      let pdpNew = NaN;
      let value = NaN;
      if (!unknown && ds.heartbeat >= interval) {
        let rate = NaN;
        const lastKnown = !Number.isNaN(s.lastDsNum[i]);
        switch (ds.type) {
          case 'COUNTER':
          case 'DERIVE': {
            value = text !== undefined ? Number(text) : (raw as number);
            if (lastKnown) {
              pdpNew = text !== undefined && s.lastDs[i] !== '' ? integerDiff(text, s.lastDs[i]) : value - s.lastDsNum[i];
              if (ds.type === 'COUNTER') {
                // rrdtool 1.7 adds 2^32-1 (not 2^32) for a 32-bit wrap.
                if (pdpNew < 0) pdpNew += 4294967295.0;
                if (pdpNew < 0) pdpNew += 18446744069414584320.0; // 2^64 - 2^32
              }
              rate = pdpNew / interval;
            }
            break;
          }
          case 'DCOUNTER':
          case 'DDERIVE': {
            value = text !== undefined ? toDouble(text) : (raw as number);
            if (lastKnown) {
              const old = s.lastDsNum[i];
              // A DCOUNTER counts one way; a change of direction is a reset: unknown.
              if (ds.type === 'DCOUNTER' && ((value > 0 && old > value) || (value < 0 && value > old))) break;
              pdpNew = value - old;
              rate = pdpNew / interval;
            }
            break;
          }
          case 'ABSOLUTE':
            value = text !== undefined ? toDouble(text) : (raw as number);
            pdpNew = value;
            rate = pdpNew / interval;
            break;
          case 'GAUGE':
            value = text !== undefined ? toDouble(text) : (raw as number);
            pdpNew = value * interval;
            rate = value;
            break;
        }
        if (!Number.isNaN(rate) && ((!Number.isNaN(ds.max) && rate > ds.max) || (!Number.isNaN(ds.min) && rate < ds.min))) {
          pdpNew = NaN;
        }
      } else if (!unknown) {
        value = text !== undefined ? toDouble(text) : (raw as number);
      }
      this.pdpNew[i] = pdpNew;
      if (text !== undefined) {
        s.lastDs[i] = text.length > 29 ? text.slice(0, 29) : text;
        s.lastDsNum[i] = unknown ? NaN : value;
      } else {
        s.lastDs[i] = '';
        s.lastDsNum[i] = value;
      }
    }
  }

  private simpleUpdate(s: RrdState, nDs: number, interval: number): void {
    for (let i = 0; i < nDs; i++) {
      const v = this.pdpNew[i];
      if (Number.isNaN(v)) s.pdpUnknSec[i] += Math.floor(interval);
      else if (Number.isNaN(s.pdpVal[i])) s.pdpVal[i] = v;
      else s.pdpVal[i] += v;
    }
  }

  /** processPdpSt computes pdpTemp, the rate of the elapsed steps: process_pdp_st. */
  private processPdpSt(def: RrdDef, s: RrdState, news: Float64Array, interval: number, preInt: number, postInt: number, diffPdpSt: number): void {
    for (let i = 0; i < def.ds.length; i++) {
      const pdpNew = news[i];
      let preUnknown = 0;
      if (Number.isNaN(pdpNew)) preUnknown = preInt;
      else {
        if (Number.isNaN(s.pdpVal[i])) s.pdpVal[i] = 0;
        s.pdpVal[i] += (pdpNew / interval) * preInt;
      }
      if (interval > def.ds[i].heartbeat || def.step / 2.0 < s.pdpUnknSec[i]) this.pdpTemp[i] = NaN;
      else this.pdpTemp[i] = s.pdpVal[i] / (diffPdpSt - s.pdpUnknSec[i] - preUnknown);
      if (Number.isNaN(pdpNew)) {
        s.pdpUnknSec[i] = Math.floor(postInt);
        s.pdpVal[i] = NaN;
      } else {
        s.pdpUnknSec[i] = 0;
        s.pdpVal[i] = (pdpNew / interval) * postInt;
      }
    }
  }

  /** updateCdps consolidates pdpTemp into each archive: update_all_cdp_prep. */
  private updateCdps(def: RrdDef, s: RrdState, elapsed: number, procPdpCnt: number): void {
    const nDs = def.ds.length;
    const plan = this.planFor(def);
    const pdpTemp = this.pdpTemp;
    for (let r = 0; r < plan.n; r++) {
      const pdpCnt = plan.pdpCnt[r];
      if (pdpCnt === 1) {
        // One PDP per row: the rows are the PDPs (reset_cdp / update_aberrant_CF).
        this.stepCnt[r] = elapsed;
        for (let d = 0, c = r * nDs; d < nDs; d++, c++) {
          s.cdpPrimary[c] = pdpTemp[d];
          s.cdpSecondary[c] = pdpTemp[d];
        }
        continue;
      }
      const startPdpOffset = pdpCnt - mod(procPdpCnt, pdpCnt);
      const stepCnt = startPdpOffset <= elapsed ? ((((elapsed - startPdpOffset) | 0) / pdpCnt) | 0) + 1 : 0;
      this.stepCnt[r] = stepCnt;
      const cf = plan.cf[r];
      for (let d = 0, c = r * nDs; d < nDs; d++, c++) {
        updateCdp(s, c, cf, pdpTemp[d], stepCnt, elapsed, startPdpOffset, pdpCnt, plan.xffLimit[r]);
      }
    }
  }

  /** planFor is def's plan (the last one asked for is kept: a checkpoint updates files of one definition after another). */
  private planFor(def: RrdDef): Plan {
    if (def !== this.planDef) {
      this.plan = planOf(def);
      this.planDef = def;
    }
    return this.plan!;
  }

  /** writeRows hands the rows of the steps just completed to sink, a run of archives (see Plan.runs) at a time. */
  private writeRows(def: RrdDef, s: RrdState, sink: RowSink): void {
    const runs = this.planFor(def).runs;
    for (let k = 0; k < runs.length; k += 2) {
      const a = runs[k];
      const b = runs[k + 1];
      const n = this.stepCnt[a];
      if (n === 0) continue;
      let together = true;
      for (let r = a + 1; r < b; r++) together &&= s.curRow[r] === s.curRow[a];
      if (together) this.advance(def, s, a, b, n, sink);
      else for (let r = a; r < b; r++) this.advance(def, s, r, r + 1, n, sink); // (no file remon writes)
    }
  }

  /** advance writes n rows of archives a … b − 1, which are at the same row, and moves them on. */
  private advance(def: RrdDef, s: RrdState, a: number, b: number, n: number, sink: RowSink): void {
    const rows = def.rra[a].rows;
    let src = s.cdpPrimary;
    let row = s.curRow[a];
    if (n > rows) {
      // More rows than the archive holds: the primary row and the oldest fill-ins would
      // be overwritten in this same update, so only the last `rows` are written.
      row = (row + n - rows) % rows;
      n = rows;
      src = s.cdpSecondary;
    }
    const offset = a * def.ds.length;
    for (; n > 0; n--) {
      row = row + 1 === rows ? 0 : row + 1;
      sink(a, b - a, row, src, offset);
      src = s.cdpSecondary;
    }
    for (let r = a; r < b; r++) s.curRow[r] = row;
  }
}

// Consolidation functions as numbers on the hot path.
const AVG = 0;
const MIN = 1;
const MAX = 2;

/** Plan is an RrdDef's archives as flat arrays, built once per definition. */
interface Plan {
  n: number;
  cf: Uint8Array;
  pdpCnt: Int32Array;
  xffLimit: Float64Array;
  /** Runs of consecutive archives of the same steps and rows, [start, end) pairs: their rows advance together. */
  runs: Int32Array;
}
const plans = new WeakMap<RrdDef, Plan>();
function planOf(def: RrdDef): Plan {
  let p = plans.get(def);
  if (!p) {
    const codes: Record<Cf, number> = { AVERAGE: AVG, MIN, MAX, LAST: 3 };
    p = {
      n: def.rra.length,
      cf: Uint8Array.from(def.rra, (r) => codes[r.cf]),
      pdpCnt: Int32Array.from(def.rra, (r) => r.pdpCnt),
      xffLimit: Float64Array.from(def.rra, (r) => r.pdpCnt * r.xff),
      runs: runsOf(def),
    };
    plans.set(def, p);
  }
  return p;
}

/** runsOf finds Plan.runs. */
function runsOf(def: RrdDef): Int32Array {
  const runs: number[] = [];
  def.rra.forEach((r, i) => {
    const last = def.rra[i - 1];
    if (i > 0 && last.pdpCnt === r.pdpCnt && last.rows === r.rows) runs[runs.length - 1] = i + 1;
    else runs.push(i, i + 1);
  });
  return Int32Array.from(runs);
}

/**
 * mod is x % m for whole numbers x below 2^53 and m ≥ 1 (step counts): for x ≥ 0 by
 * division, exact there (the quotient cannot round across a whole number) and cheaper than
 * the double fmod of %, without the wrap of int32 arithmetic past 2^31 (PDP counts at a
 * 1 s step from 2038).
 */
function mod(x: number, m: number): number {
  return x >= 0 ? x - Math.floor(x / m) * m : x % m;
}

/** update_cdp for archives with more than one PDP per row. */
function updateCdp(s: RrdState, c: number, cf: number, pdp: number, stepCnt: number, elapsed: number, startPdpOffset: number, pdpCnt: number, xffLimit: number): void {
  const unknown = pdp !== pdp; // NaN
  if (stepCnt > 0) {
    if (unknown) {
      s.cdpUnknPdp[c] += startPdpOffset;
      s.cdpSecondary[c] = NaN;
    } else {
      s.cdpSecondary[c] = pdp;
    }
    if (s.cdpUnknPdp[c] > xffLimit) s.cdpPrimary[c] = NaN;
    else s.cdpPrimary[c] = primaryValue(s.cdpVal[c], cf, pdp, startPdpOffset, pdpCnt - s.cdpUnknPdp[c]);
    // initialize_carry_over: what the next row starts from.
    const into = ((elapsed - startPdpOffset) | 0) % pdpCnt;
    if (into === 0 || unknown) s.cdpVal[c] = cf === MAX ? -Infinity : cf === MIN ? Infinity : cf === AVG ? 0 : NaN;
    else s.cdpVal[c] = cf === AVG ? pdp * into : pdp;
    s.cdpUnknPdp[c] = unknown ? into : 0;
  } else if (unknown) {
    s.cdpUnknPdp[c] += elapsed;
  } else {
    const cdp = s.cdpVal[c];
    if (cdp !== cdp) s.cdpVal[c] = cf === AVG ? pdp * elapsed : pdp;
    else if (cf === AVG) s.cdpVal[c] = cdp + pdp * elapsed;
    else if (cf === MIN) s.cdpVal[c] = pdp < cdp ? pdp : cdp;
    else if (cf === MAX) s.cdpVal[c] = pdp > cdp ? pdp : cdp;
    else s.cdpVal[c] = pdp;
  }
}

/** initialize_cdp_val: the primary (first written) row of a consolidation. */
function primaryValue(cum: number, cf: number, pdp: number, startPdpOffset: number, knownPdps: number): number {
  if (cf === AVG) return ((cum !== cum ? 0 : cum) + (pdp !== pdp ? 0 : pdp) * startPdpOffset) / knownPdps;
  if (cf === MAX) {
    const a = cum !== cum ? -Infinity : cum;
    const b = pdp !== pdp ? -Infinity : pdp;
    return b > a ? b : a;
  }
  if (cf === MIN) {
    const a = cum !== cum ? Infinity : cum;
    const b = pdp !== pdp ? Infinity : pdp;
    return b < a ? b : a;
  }
  return pdp;
}

function notInteger(type: string, raw: string | number): Error {
  return createError('REMON_ERR_RRD_UPDATE', `not a simple ${type === 'DERIVE' ? 'signed' : 'unsigned'} integer: '${raw}'`);
}

/** toDouble parses a value as rrdtool does (rrd_strtodbl), or throws its message. */
function toDouble(text: string): number {
  const v = rrdStrtod(text);
  if (Number.isNaN(v) && !/^\s*-?nan$/i.test(text)) {
    throw createError('REMON_ERR_RRD_UPDATE', `cannot convert '${text}' to float`);
  }
  return v;
}

/** integerDiff is rrd_diff: the exact difference of two integer strings, as a double. */
function integerDiff(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isSafeInteger(x) && Number.isSafeInteger(y)) return x - y;
  return Number(BigInt(a) - BigInt(b));
}
