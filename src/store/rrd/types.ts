/**
 * The RRDtool data model as remon stores it: a fixed step, data sources (DS) and round-robin
 * archives (RRA). Field names follow rrdtool's so the code reads beside rrd_update.c.
 */
export const DS_TYPES = ['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE', 'DCOUNTER', 'DDERIVE'] as const;
export type DsType = (typeof DS_TYPES)[number];

export const CFS = ['AVERAGE', 'MIN', 'MAX', 'LAST'] as const;
export type Cf = (typeof CFS)[number];

export interface DsDef {
  name: string;
  type: DsType;
  /** Minimal heartbeat, seconds: a longer gap between updates makes the interval unknown. */
  heartbeat: number;
  /** Rates outside [min, max] become unknown; NaN means no bound. */
  min: number;
  max: number;
}

export interface RraDef {
  cf: Cf;
  /** X-files factor: the fraction of a row's PDPs that may be unknown. */
  xff: number;
  /** PDPs per row. */
  pdpCnt: number;
  rows: number;
}

export interface RrdDef {
  step: number;
  ds: DsDef[];
  rra: RraDef[];
}

/**
 * RrdState is everything that changes on update besides the rows themselves: rrdtool's
 * live_head, pdp_prep, cdp_prep and rra_ptr. Arrays are indexed [ds] or [rra * dsCnt + ds].
 */
export interface RrdState {
  lastUp: number;
  lastUpUsec: number;
  /**
   * The last value given per DS as text ("U" for unknown), as rrdtool keeps it: COUNTER and
   * DERIVE diff against it exactly. Empty when the value came in as a number (in-process
   * writes), which lastDsNum then holds.
   */
  lastDs: string[];
  /** The last value given per DS as a number (NaN for unknown). */
  lastDsNum: Float64Array;
  pdpVal: Float64Array;
  pdpUnknSec: Float64Array;
  cdpVal: Float64Array;
  cdpUnknPdp: Float64Array;
  cdpPrimary: Float64Array;
  cdpSecondary: Float64Array;
  curRow: Uint32Array;
}

/** newState is the state of a freshly created RRD whose last update is `start`. */
export function newState(def: RrdDef, start: number): RrdState {
  const n = def.ds.length;
  const m = def.rra.length * n;
  const s: RrdState = {
    lastUp: start,
    lastUpUsec: 0,
    lastDs: def.ds.map(() => 'U'),
    lastDsNum: new Float64Array(n).fill(NaN),
    pdpVal: new Float64Array(n).fill(NaN), // rrd_create: PDP_val = DNAN (update adds to it as 0)
    pdpUnknSec: new Float64Array(n).fill(start % def.step),
    cdpVal: new Float64Array(m).fill(NaN),
    cdpUnknPdp: new Float64Array(m),
    cdpPrimary: new Float64Array(m).fill(NaN),
    cdpSecondary: new Float64Array(m).fill(NaN),
    curRow: Uint32Array.from(def.rra, (r) => r.rows - 1),
  };
  def.rra.forEach((r, i) => {
    // rrd_create: PDPs already "missing" in the first CDP of each archive.
    const unkn = (((start - (start % def.step)) % (def.step * r.pdpCnt)) / def.step);
    for (let d = 0; d < n; d++) s.cdpUnknPdp[i * n + d] = unkn;
  });
  return s;
}

/** lastDsText is the last value of DS i as rrdtool would show it. */
export function lastDsText(s: RrdState, i: number): string {
  if (s.lastDs[i] !== '') return s.lastDs[i];
  return Number.isNaN(s.lastDsNum[i]) ? 'U' : String(s.lastDsNum[i]);
}
