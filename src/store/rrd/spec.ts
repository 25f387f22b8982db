import { createError } from '../../errors';
import { Cf, CFS, DS_TYPES, DsDef, DsType, RraDef } from './types';

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2678400, y: 31622400 };

const bad = (m: string): never => {
  throw createError('REMON_ERR_RRD_CREATE', m);
};

/** seconds parses "300" or "5m" as rrdtool's create does (M is 31 days, y 366 days). */
export function seconds(text: string, what: string): number {
  const m = /^(\d+)([smhdwMy]?)$/.exec(text);
  if (!m) return bad(`invalid ${what} '${text}'`);
  return Number(m[1]) * (m[2] ? UNIT_S[m[2]] : 1);
}

/** parseDs reads DS:name:TYPE:heartbeat:min:max ("U" for no bound). */
export function parseDs(spec: string): DsDef {
  const parts = spec.split(':');
  if (parts[0] !== 'DS' || parts.length !== 6) bad(`invalid DS format '${spec}'; expected DS:name:TYPE:heartbeat:min:max`);
  const [, name, type, hb, min, max] = parts;
  if (!(DS_TYPES as readonly string[]).includes(type)) bad(`unknown data source type '${type}'`);
  const bound = (v: string, which: string): number => {
    if (v === 'U') return NaN;
    const n = Number(v);
    return Number.isNaN(n) || v.trim() === '' ? bad(`invalid ${which} '${v}' in '${spec}'`) : n;
  };
  return { name, type: type as DsType, heartbeat: seconds(hb, 'heartbeat'), min: bound(min, 'min'), max: bound(max, 'max') };
}

/** parseRra reads RRA:CF:xff:steps:rows; steps and rows may be durations ("1h", "1d"). */
export function parseRra(spec: string, step: number): RraDef {
  const parts = spec.split(':');
  if (parts[0] !== 'RRA' || parts.length !== 5) bad(`invalid RRA format '${spec}'; expected RRA:CF:xff:steps:rows`);
  const [, cf, xffText, stepsText, rowsText] = parts;
  if (!(CFS as readonly string[]).includes(cf)) bad(`unrecognized consolidation function '${cf}'`);
  const xff = Number(xffText);
  if (xffText.trim() === '' || !(xff >= 0 && xff < 1)) bad(`invalid xff '${xffText}': must be >= 0 and < 1`);
  const pdpCnt = /^\d+$/.test(stepsText) ? Number(stepsText) : Math.max(1, Math.round(seconds(stepsText, 'steps') / step));
  const rows = /^\d+$/.test(rowsText) ? Number(rowsText) : Math.max(1, Math.round(seconds(rowsText, 'rows') / (pdpCnt * step)));
  if (pdpCnt < 1) bad(`invalid steps '${stepsText}'`);
  if (rows < 1) bad(`invalid rows '${rowsText}'`);
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
