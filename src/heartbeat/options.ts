import { DURATION_PATTERN, formatDuration, parseDuration } from '../util/duration';
import { cronProblem, cronSchedule, periodSchedule, Schedule, tzProblem } from './schedule';

/** HeartbeatOptions are a heartbeat's keys, as in monitor.yaml and in `remon config`. */
export interface HeartbeatOptions {
  period?: string;
  schedule?: string;
  tz?: string;
  grace?: string;
  max_runtime?: string;
  description?: string;
  paused?: boolean;
}

/** OPTION_KEYS are the keys a heartbeat definition has (besides the common block keys). */
export const OPTION_KEYS = ['period', 'schedule', 'tz', 'grace', 'max_runtime', 'description', 'paused'] as const;
export type OptionKey = (typeof OPTION_KEYS)[number];
const DURATION_KEYS: readonly OptionKey[] = ['period', 'grace', 'max_runtime'];

/** DEFAULT_GRACE_MS: how long past its deadline a heartbeat is late before it is down. */
export const DEFAULT_GRACE_MS = 60_000;
/** AUTO_CREATE_OPTIONS: what a heartbeat created by its first signal (node.auto_create) gets. */
export const AUTO_CREATE_OPTIONS: HeartbeatOptions = Object.freeze({ period: '1d', grace: '1h' });

/** HeartbeatDef is a heartbeat's effective definition, parsed. */
export interface HeartbeatDef {
  name: string;
  description: string;
  schedule: Schedule;
  periodMs?: number;
  cron?: string;
  tz?: string;
  graceMs: number;
  /** A run (start → success) longer than this is down; defaults to grace. */
  maxRuntimeMs: number;
  paused: boolean;
}

/**
 * optionProblems checks heartbeat options, as [key, message] pairs (an empty key is the
 * whole heartbeat). It checks types too, so that runtime edits (which skip the JSON Schema)
 * get the same words as monitor.yaml.
 */
export function optionProblems(o: Record<string, unknown>): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  for (const key of DURATION_KEYS) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !new RegExp(DURATION_PATTERN).test(v)) {
      problems.push([key, `expected a duration like 30s, 5m, 1h or 1d; got ${JSON.stringify(v)}`]);
    } else if (parseDuration(v) === 0 && key !== 'grace') {
      problems.push([key, `must be longer than 0s; got "${v}"`]);
    }
  }
  for (const key of ['schedule', 'tz', 'description'] as const) {
    const v = o[key];
    if (v !== undefined && v !== null && typeof v !== 'string') problems.push([key, `expected a string; got ${JSON.stringify(v)}`]);
  }
  if (o.paused !== undefined && o.paused !== null && typeof o.paused !== 'boolean') problems.push(['paused', 'expected true or false']);
  const has = (k: string): boolean => o[k] !== undefined && o[k] !== null;
  if (has('period') && has('schedule')) {
    problems.push(['schedule', 'give either period (rolling) or schedule (cron), not both']);
  } else if (!has('period') && !has('schedule')) {
    problems.push(['', 'needs period (rolling, e.g. period: 1d) or schedule (cron, e.g. schedule: "0 3 * * *")']);
  }
  if (typeof o.schedule === 'string') {
    const why = cronProblem(o.schedule);
    if (why) problems.push(['schedule', `is not a cron expression (${why}); expected e.g. "0 3 * * *" or @daily`]);
  }
  if (typeof o.tz === 'string') {
    if (!has('schedule')) problems.push(['tz', 'only applies to schedule (cron); a period counts from the last success']);
    const why = tzProblem(o.tz);
    if (why) problems.push(['tz', why]);
  }
  return problems;
}

/** toDef parses options that passed optionProblems. */
export function toDef(name: string, o: HeartbeatOptions): HeartbeatDef {
  const graceMs = o.grace ? parseDuration(o.grace)! : DEFAULT_GRACE_MS;
  const periodMs = o.period ? parseDuration(o.period) : undefined;
  return {
    name,
    description: o.description ?? '',
    schedule: periodMs !== undefined ? periodSchedule(periodMs) : cronSchedule(o.schedule!, o.tz),
    periodMs,
    cron: periodMs === undefined ? o.schedule : undefined,
    tz: periodMs === undefined ? o.tz ?? 'UTC' : undefined,
    graceMs,
    maxRuntimeMs: o.max_runtime ? parseDuration(o.max_runtime)! : graceMs,
    paused: o.paused === true,
  };
}

/** pickOptions keeps the heartbeat keys of a block's options (dropping name, type, pipe, ...). */
export function pickOptions(o: Readonly<Record<string, unknown>>): HeartbeatOptions {
  const out: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (o[k] !== undefined && o[k] !== null) out[k] = o[k];
  return out as HeartbeatOptions;
}

/** Override is a runtime edit: keys set, or removed (null), over monitor.yaml's. */
export type Override = Partial<Record<OptionKey, string | boolean | null>>;

/**
 * patchOverride applies a `remon config` patch to an override. Setting period removes
 * schedule and tz, and setting schedule removes period, so the result has one of them.
 */
export function patchOverride(current: Override, patch: Override): Override {
  const next: Override = { ...current, ...patch };
  if (patch.period !== undefined && patch.period !== null) Object.assign(next, { schedule: null, tz: null });
  if (patch.schedule !== undefined && patch.schedule !== null) next.period = null;
  return next;
}

/** applyOverride is the effective options: the file's with the override on top. */
export function applyOverride(file: HeartbeatOptions | undefined, override: Override | undefined): HeartbeatOptions {
  const out: Record<string, unknown> = { ...file };
  for (const [k, v] of Object.entries(override ?? {})) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out as HeartbeatOptions;
}

function same(key: OptionKey, a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (v === undefined || v === null || v === '' || v === false) return undefined;
    return DURATION_KEYS.includes(key) && typeof v === 'string' ? parseDuration(v) : v;
  };
  return norm(a) === norm(b);
}

/** Difference is one key whose runtime value is not monitor.yaml's. */
export interface Difference {
  key: OptionKey;
  file: string | boolean | null;
  runtime: string | boolean | null;
}

/** differences lists the keys where the effective options differ from the file's. */
export function differences(file: HeartbeatOptions | undefined, effective: HeartbeatOptions): Difference[] {
  const f = (file ?? {}) as Record<string, string | boolean | undefined>;
  const e = effective as Record<string, string | boolean | undefined>;
  return OPTION_KEYS.filter((k) => !same(k, f[k], e[k])).map((key) => ({ key, file: f[key] ?? null, runtime: e[key] ?? null }));
}

/**
 * reduceOverride drops the keys of an override that monitor.yaml now says too (the edit
 * was written back), so a heartbeat only shows as differing while it does.
 */
export function reduceOverride(file: HeartbeatOptions | undefined, override: Override): Override {
  const f = (file ?? {}) as Record<string, unknown>;
  const out: Override = {};
  for (const [k, v] of Object.entries(override) as Array<[OptionKey, string | boolean | null]>) {
    if (!same(k, f[k], v)) out[k] = v;
  }
  return out;
}

/** describeDef renders a definition in one line, for tables and logs. */
export function describeDef(d: HeartbeatDef): string {
  const parts = [d.schedule.describe(), `grace ${formatDuration(d.graceMs)}`];
  if (d.maxRuntimeMs !== d.graceMs) parts.push(`max_runtime ${formatDuration(d.maxRuntimeMs)}`);
  return parts.join(', ');
}
