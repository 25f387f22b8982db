import { createError, ErrorCode } from '../../errors';
import { Cf, CFS, DS_TYPES, DsDef, DsType, RraDef } from './types';

/*
 * The argument syntax of `rrdtool create` (DS:, RRA:, --step), read the way rrdtool 1.7
 * reads it and refused with rrdtool's words, so that a definition rrdtool refuses is
 * refused here too (its own tests/rrdcreate runs against `remon rrd` in the suite).
 */

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2678400, y: 31622400 };

/** HOLT_WINTERS_CFS are rrdtool's aberrant-behaviour archives, which remon's files do not have. */
export const HOLT_WINTERS_CFS = ['HWPREDICT', 'MHWPREDICT', 'SEASONAL', 'DEVSEASONAL', 'DEVPREDICT', 'FAILURES'] as const;

const bad = (m: string): never => {
  throw createError('REMON_ERR_RRD_CREATE', m);
};

/**
 * scaledDuration reads a count ("12") or a duration ("15s", "1h", "18M") as rrdtool's
 * rrd_scaled_duration does: a count is taken as it is; a duration is divided by `divisor`
 * seconds and must be a whole multiple of it. Returns the number, or rrdtool's reason
 * for refusing it. (M is 31 days, y 366 days, as in rrdtool.)
 */
export function scaledDuration(token: string, divisor: number): number | string {
  const m = /^(\d+)(.*)$/.exec(token);
  if (!m) return 'value must be (suffixed) positive number';
  const unit = m[2];
  if (unit !== '' && UNIT_S[unit] === undefined) return 'value has trailing garbage';
  const value = Number(m[1]) * (unit === '' ? 1 : UNIT_S[unit]);
  if (value === 0) return 'value must be positive';
  if (unit === '') return value;
  if (value % divisor !== 0) return 'value would truncate when scaled';
  return value / divisor;
}

/** seconds reads an option that is a number of seconds or a duration (--step, --resolution); refuses with "<what>: <reason>". */
export function seconds(text: string, what: string, code: ErrorCode = 'REMON_ERR_RRD_CREATE'): number {
  const v = scaledDuration(text, 1);
  if (typeof v === 'string') throw createError(code, `${what}: ${v}`);
  return v;
}

/** parseBound reads a DS min or max: a number, or U for none. */
function parseBound(text: string, which: 'min' | 'max'): number {
  if (text === 'U') return NaN;
  if (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^\s*[-+]?(nan|inf(inity)?)$/i.test(text)) return /nan/i.test(text) ? NaN : text.includes('-') ? -Infinity : Infinity;
  return bad(`parsing ${which} val - Cannot convert '${text}' to float`);
}

/** parseDs reads DS:name:TYPE:heartbeat:min:max ("U" for no bound; the heartbeat a count of seconds or a duration). */
export function parseDs(spec: string): DsDef {
  const m = /^DS:([-A-Za-z0-9_]{1,19}):([A-Z]{1,19}):(.+)$/.exec(spec);
  if (!m) return bad('invalid DS format');
  const [, name, type, args] = m;
  if (!(DS_TYPES as readonly string[]).includes(type)) bad(`invalid DS type specified (${type})`);
  const fail = (why: string): never => bad(`failed to parse data source ${args}: ${why}`);
  const colon = args.indexOf(':');
  if (colon < 0) fail('missing separator');
  const heartbeat = scaledDuration(args.slice(0, colon), 1);
  if (typeof heartbeat === 'string') return fail(heartbeat);
  const bounds = /^([^:]+):([^:]+)$/.exec(args.slice(colon + 1));
  if (!bounds) return fail('failed to extract min:max');
  const min = parseBound(bounds[1], 'min');
  const max = parseBound(bounds[2], 'max');
  if (min >= max) fail('min must be less than max in DS definition');
  return { name, type: type as DsType, heartbeat, min, max };
}

/**
 * parseRra reads RRA:CF:xff:steps:rows. Steps and rows are counts, or durations that must
 * be whole multiples: steps of the base step, rows (the archive's span) of the archive's
 * own step. Holt-Winters archives are refused: remon's files have none.
 */
export function parseRra(spec: string, step: number): RraDef {
  const tokens = spec.slice(4).split(':').filter((t) => t !== '');
  const cf = tokens[0] ?? '';
  if ((HOLT_WINTERS_CFS as readonly string[]).includes(cf)) {
    bad(`consolidation function ${cf} (Holt-Winters) is not supported by remon rrd; use AVERAGE, MIN, MAX or LAST`);
  }
  if (tokens.length > 0 && !(CFS as readonly string[]).includes(cf)) bad(`Unrecognized consolidation function ${cf}`);
  let xff = NaN;
  let pdpCnt = 1;
  let rows = 0;
  if (tokens.length > 1) {
    xff = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(tokens[1]) ? Number(tokens[1]) : NaN;
    if (!(xff >= 0 && xff < 1)) bad('Invalid xff: must be between 0 and 1');
  }
  if (tokens.length > 2) {
    const v = scaledDuration(tokens[2], step);
    pdpCnt = typeof v === 'number' ? v : bad(`Invalid step ${tokens[2]}: ${v}`);
  }
  if (tokens.length > 3) {
    const v = scaledDuration(tokens[3], step * pdpCnt);
    rows = typeof v === 'number' ? v : bad(`Invalid row count ${tokens[3]}: ${v}`);
  }
  if (tokens.length > 4) bad(`Unexpected extra argument for consolidation function ${cf}`);
  if (tokens.length < 4) bad(`Expected at least 4 arguments for RRA but got ${tokens.length}`);
  return { cf: cf as Cf, xff, pdpCnt, rows };
}

/**
 * parseTime reads the time forms remon's rrd commands accept: epoch seconds, "now"/"N",
 * and offsets from now, start or end ("now-1h", "end-1d", "e-1d", "start+6h", "-3600").
 */
export function parseTime(text: string, refs: { now: number; start?: number; end?: number }): number {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t) && !t.startsWith('-')) return Number(t);
  const m = /^(now|n|end|e|start|s)?\s*(?:([-+])\s*(\d+)\s*([a-z]*))?$/i.exec(t);
  if (!m || (!m[1] && !m[2])) throw createError('REMON_ERR_RRD_FETCH', `unparsable time: ${text}`);
  const ref = (m[1] ?? 'now').toLowerCase();
  let base = refs.now;
  if (ref === 'end' || ref === 'e') base = refs.end ?? refs.now;
  if (ref === 'start' || ref === 's') base = refs.start ?? refs.now;
  if (!m[2]) return base;
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, seconds: 1, m: 60, min: 60, minutes: 60, h: 3600, hours: 3600, d: 86400, days: 86400, w: 604800, weeks: 604800 };
  const unit = units[m[4].toLowerCase()];
  if (unit === undefined) throw createError('REMON_ERR_RRD_FETCH', `unparsable time: ${text}`);
  return base + (m[2] === '-' ? -1 : 1) * Number(m[3]) * unit;
}
