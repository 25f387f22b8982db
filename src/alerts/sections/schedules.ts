import type { JsonSchema } from '../../engine/block';
import type { ConfigSection, SectionIssue } from '../../config/section';
import { parseDuration } from '../../util/duration';
import { DAY_MS, tzProblem, WEEKDAYS } from '../../util/zone';
import type { LayerConfig, ScheduleConfig } from '../config';
import { durationRef, isMap, namesIn, nameMap, parseWhen, refIssue, when } from './common';

const HANDOFF = /^(?:(sun|mon|tue|wed|thu|fri|sat)\s+)?([01]?\d|2[0-3]):([0-5]\d)$/;
const HOURS = /^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)$/;
/** The default rotation start: a Monday. */
const EPOCH_MONDAY = '1970-01-05';

const layerSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['every', 'people'],
  'x-expected': 'a rotation: a mapping with every, handoff and people',
  properties: {
    every: durationRef('How long each person is on call (1d, 1w, 12h).'),
    handoff: {
      type: 'string',
      pattern: HANDOFF.source,
      'x-expected': 'a handoff time like "mon 09:00" or "09:00"',
      description: 'When one turn ends and the next begins, in the schedule\'s time zone (default 00:00).',
    },
    people: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, 'x-expected': 'a list of contact names', description: 'Contacts, in turn order.' },
    start: {
      type: 'string',
      pattern: '^\\d{4}-\\d{2}-\\d{2}$',
      'x-expected': 'a date like 2026-01-05',
      description: 'A date from which the handoff is the first person\'s turn (default 1970-01-05, a Monday).',
    },
    days: { type: 'array', minItems: 1, items: { enum: [...WEEKDAYS] }, description: 'The layer is active on these days only.' },
    hours: { type: 'string', pattern: HOURS.source, 'x-expected': 'a time range like "18:00-08:00"', description: 'The layer is active within these hours only (may wrap midnight).' },
  },
};

const scheduleSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  'x-expected': 'a schedule: a mapping with tz, rotation (or layers) and overrides',
  properties: {
    tz: { type: 'string', minLength: 1, 'x-expected': 'an IANA time zone such as Europe/Berlin', description: 'Time zone of handoffs and overrides (default UTC).' },
    rotation: layerSchema,
    layers: { type: 'array', minItems: 1, items: layerSchema, description: 'Rotations stacked: a later layer overrides earlier ones where it is active.' },
    overrides: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['person', 'from', 'to'],
        properties: { person: { type: 'string', minLength: 1 }, from: when('Start (in tz unless it has an offset).'), to: when('End.') },
      },
      description: 'Someone else on call for a while, over every layer.',
    },
  },
};

/** checkSchedules: a zone that exists, people who are contacts, handoffs that fit the period, overrides in order. */
function checkSchedules(raw: unknown, ctx: Parameters<NonNullable<ConfigSection['check']>>[1]): SectionIssue[] {
  const issues: SectionIssue[] = [];
  if (!isMap(raw)) return issues;
  const contacts = namesIn(ctx.raw.contacts);
  const person = (name: unknown, path: Array<string | number>): void => {
    if (typeof name !== 'string') return;
    const issue = refIssue('contact', name, contacts, path, ' (add it under contacts:)');
    if (issue) issues.push(issue);
  };
  for (const [name, s] of Object.entries(raw)) {
    if (!isMap(s)) continue;
    const at = ['schedules', name];
    const tz = typeof s.tz === 'string' ? s.tz : 'UTC';
    const problem = tzProblem(tz);
    if (problem) issues.push({ path: [...at, 'tz'], message: problem });
    if (s.rotation === undefined && s.layers === undefined) issues.push({ path: at, message: 'a schedule needs a rotation (or layers)' });
    const layers: Array<[unknown, Array<string | number>]> = [];
    if (s.rotation !== undefined) layers.push([s.rotation, [...at, 'rotation']]);
    if (Array.isArray(s.layers)) s.layers.forEach((l, i) => layers.push([l, [...at, 'layers', i]]));
    for (const [l, path] of layers) {
      if (!isMap(l)) continue;
      if (Array.isArray(l.people)) l.people.forEach((p, i) => person(p, [...path, 'people', i]));
      const every = typeof l.every === 'string' ? parseDuration(l.every) : undefined;
      if (every === 0) issues.push({ path: [...path, 'every'], message: `must be longer than 0s; got "${l.every}"` });
      const m = typeof l.handoff === 'string' ? HANDOFF.exec(l.handoff) : null;
      if (m?.[1] && every && every % (7 * DAY_MS) !== 0) {
        issues.push({ path: [...path, 'handoff'], message: `a handoff on a weekday ("${l.handoff}") needs every in whole weeks; got "${l.every}"` });
      }
      if (typeof l.start === 'string' && parseWhen(`${l.start}T00:00`) === undefined) issues.push({ path: [...path, 'start'], message: `not a date: "${l.start}"` });
    }
    if (!Array.isArray(s.overrides)) continue;
    s.overrides.forEach((o, i) => {
      if (!isMap(o)) return;
      const path = [...at, 'overrides', i];
      person(o.person, [...path, 'person']);
      const from = typeof o.from === 'string' ? parseWhen(o.from, problem ? 'UTC' : tz) : undefined;
      const to = typeof o.to === 'string' ? parseWhen(o.to, problem ? 'UTC' : tz) : undefined;
      if (typeof o.from === 'string' && from === undefined) issues.push({ path: [...path, 'from'], message: `not a date and time: "${o.from}"` });
      if (typeof o.to === 'string' && to === undefined) issues.push({ path: [...path, 'to'], message: `not a date and time: "${o.to}"` });
      if (from !== undefined && to !== undefined && to <= from) issues.push({ path: [...path, 'to'], message: `must be after from (${o.from}); got "${o.to}"` });
    });
  }
  return issues;
}

function minutesOf(h: string, m: string): number {
  return Number(h) * 60 + Number(m);
}

/** buildLayer turns a validated rotation into its anchor (local ms of a first-person handoff) and filters. */
function buildLayer(l: Record<string, unknown>): LayerConfig {
  const m = HANDOFF.exec((l.handoff as string | undefined) ?? '00:00')!;
  const [y, mo, d] = ((l.start as string | undefined) ?? EPOCH_MONDAY).split('-').map(Number);
  let anchor = Date.UTC(y, mo - 1, d);
  if (m[1]) anchor += ((WEEKDAYS.indexOf(m[1] as (typeof WEEKDAYS)[number]) - new Date(anchor).getUTCDay() + 7) % 7) * DAY_MS;
  anchor += minutesOf(m[2], m[3]) * 60_000;
  const layer: LayerConfig = { everyMs: parseDuration(l.every as string)!, people: [...(l.people as string[])], anchor };
  if (Array.isArray(l.days)) layer.days = (l.days as string[]).map((n) => WEEKDAYS.indexOf(n as (typeof WEEKDAYS)[number]));
  const h = typeof l.hours === 'string' ? HOURS.exec(l.hours) : null;
  if (h) layer.hours = { from: minutesOf(h[1], h[2]), to: minutesOf(h[3], h[4]) };
  return layer;
}

/** schedulesSection is `schedules:`: on-call rotations with handoffs in a time zone, layers and overrides. */
export const schedulesSection: ConfigSection<'schedules', Record<string, Record<string, unknown>>> = {
  key: 'schedules',
  reload: 'live',
  schema: nameMap('schedule', scheduleSchema, 'On-call rotations; an escalation level notifies schedule:NAME (docs/alerts.md).'),
  check: checkSchedules,
  build(raw) {
    const out: Record<string, ScheduleConfig> = {};
    for (const [name, s] of Object.entries(raw ?? {})) {
      const tz = (s.tz as string | undefined) ?? 'UTC';
      const layers = [...(s.rotation ? [s.rotation] : []), ...((s.layers as unknown[] | undefined) ?? [])].map((l) => buildLayer(l as Record<string, unknown>));
      const overrides = ((s.overrides as Array<Record<string, string>> | undefined) ?? []).map((o) => ({
        person: o.person, from: parseWhen(o.from, tz)!, to: parseWhen(o.to, tz)!,
      }));
      out[name] = { name, tz, layers, overrides };
    }
    return out;
  },
};
