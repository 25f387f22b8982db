import { DAY_MS, fromLocal, toLocal } from '../util/zone';
import type { LayerConfig, ScheduleConfig, Target } from './config';

/** OnCall is who a schedule has on call at a time, and why. */
export interface OnCall {
  schedule: string;
  /** Undefined when no layer is active then and no override applies. */
  person?: string;
  /** 'override', or the index of the layer that decided. */
  from?: 'override' | number;
}

/** How far ahead turnEnd looks for a change of who is on call. */
const HORIZON_MS = 15 * DAY_MS;
/** At most this many handoffs of one layer are looked at (a 1m rotation over the horizon would be 21,600). */
const MAX_HANDOFFS = 1000;

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** layerActive tells whether a layer's days and hours include the wall-clock time `local`. */
function layerActive(l: LayerConfig, local: number): boolean {
  if (l.days && !l.days.includes(new Date(local).getUTCDay())) return false;
  if (!l.hours) return true;
  const minute = Math.floor(mod(local, DAY_MS) / 60_000);
  const { from, to } = l.hours;
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** byLayers is who the layers have on call at wall-clock time `local`: the last active layer decides. */
function byLayers(s: ScheduleConfig, local: number): { person: string; from: number } | undefined {
  for (let i = s.layers.length - 1; i >= 0; i--) {
    const l = s.layers[i];
    if (!layerActive(l, local)) continue;
    const turn = Math.floor((local - l.anchor) / l.everyMs);
    return { person: l.people[mod(turn, l.people.length)], from: i };
  }
  return undefined;
}

/**
 * onCall tells who schedule `s` has on call at instant t. An override covering t wins;
 * otherwise the last layer active at t (its days and hours) decides. Turns are counted on
 * the wall clock of the schedule's time zone: a handoff at 09:00 is at 09:00 local time
 * on both sides of a DST change, so the turn across it is an hour shorter or longer.
 */
export function onCall(s: ScheduleConfig, t: number): OnCall {
  for (const o of s.overrides) {
    if (t >= o.from && t < o.to) return { schedule: s.name, person: o.person, from: 'override' };
  }
  const d = byLayers(s, toLocal(t, s.tz));
  return d ? { schedule: s.name, ...d } : { schedule: s.name };
}

/**
 * turnEnd is when the schedule's answer at t changes next (another person, or nobody),
 * looking 15 days ahead; undefined when it does not change within that. Who is on call
 * changes only at a layer's handoff, at the edge of a layer's days or hours, or at an
 * override's start or end, so those instants are the ones tried, in order.
 */
export function turnEnd(s: ScheduleConfig, t: number): number | undefined {
  const who = onCall(s, t);
  const local = toLocal(t, s.tz);
  const candidates: number[] = [];
  for (const o of s.overrides) for (const x of [o.from, o.to]) if (x > t && x <= t + HORIZON_MS) candidates.push(x);
  const localCandidates: number[] = [];
  const midnight = local - mod(local, DAY_MS);
  for (const l of s.layers) {
    const first = l.anchor + (Math.floor((local - l.anchor) / l.everyMs) + 1) * l.everyMs;
    for (let h = first, n = 0; h <= local + HORIZON_MS && n < MAX_HANDOFFS; h += l.everyMs, n++) localCandidates.push(h);
    if (!l.days && !l.hours) continue;
    for (let day = midnight; day <= local + HORIZON_MS; day += DAY_MS) {
      localCandidates.push(day);
      if (l.hours) localCandidates.push(day + l.hours.from * 60_000, day + (l.hours.to % 1440) * 60_000);
    }
  }
  for (const x of localCandidates) if (x > local) candidates.push(fromLocal(x, s.tz));
  candidates.sort((a, b) => a - b);
  for (const c of candidates) {
    if (c <= t) continue;
    const next = onCall(s, c);
    if (next.person !== who.person) return c;
  }
  return undefined;
}

/**
 * stepContacts resolves an escalation level's targets at a time: contacts as named,
 * schedules to whom they have on call then (each person once, in order); `nobody` lists the
 * schedules with nobody on call (or not configured).
 */
export function stepContacts(targets: readonly Target[], schedules: Readonly<Record<string, ScheduleConfig>>, now: number): { to: string[]; nobody: string[] } {
  const to: string[] = [];
  const nobody: string[] = [];
  for (const t of targets) {
    let who: string | undefined;
    if ('contact' in t) who = t.contact;
    else {
      const s = schedules[t.schedule];
      who = s ? onCall(s, now).person : undefined;
      if (who === undefined) nobody.push(t.schedule);
    }
    if (who !== undefined && !to.includes(who)) to.push(who);
  }
  return { to, nobody };
}
