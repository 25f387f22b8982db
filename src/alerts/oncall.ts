import { DAY_MS, fromLocal, toLocal } from '../util/zone';
import type { LayerConfig, ScheduleConfig } from './config';

/** OnCall is who a schedule has on call at a time, and why. */
export interface OnCall {
  schedule: string;
  /** Undefined when no layer is active then and no override applies. */
  person?: string;
  /** 'override', or the index of the layer that decided. */
  from?: 'override' | number;
  /** When this turn ends (the next handoff of that layer, or the override's end), epoch ms. */
  until?: number;
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** layerActive tells whether a layer's days and hours include the wall-clock time `local`. */
function layerActive(l: LayerConfig, local: number): boolean {
  if (l.days && !l.days.includes(new Date(local).getUTCDay())) return false;
  if (!l.hours) return true;
  const minute = Math.floor(mod(local, DAY_MS) / 60_000);
  const { from, to } = l.hours;
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

/**
 * onCall tells who schedule `s` has on call at instant t. An override covering t wins;
 * otherwise the last layer active at t (its days and hours) decides. Turns are counted on
 * the wall clock of the schedule's time zone: a handoff at 09:00 is at 09:00 local time
 * on both sides of a DST change, so the turn across it is an hour shorter or longer.
 */
export function onCall(s: ScheduleConfig, t: number): OnCall {
  for (const o of s.overrides) {
    if (t >= o.from && t < o.to) return { schedule: s.name, person: o.person, from: 'override', until: o.to };
  }
  const local = toLocal(t, s.tz);
  for (let i = s.layers.length - 1; i >= 0; i--) {
    const l = s.layers[i];
    if (!layerActive(l, local)) continue;
    const turn = Math.floor((local - l.anchor) / l.everyMs);
    let until = fromLocal(l.anchor + (turn + 1) * l.everyMs, s.tz);
    // An override starting before the next handoff ends this turn early.
    for (const o of s.overrides) if (o.from > t && o.from < until) until = o.from;
    return { schedule: s.name, person: l.people[mod(turn, l.people.length)], from: i, until };
  }
  return { schedule: s.name };
}
