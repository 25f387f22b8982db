import type { JsonSchema } from '../engine/block';
import type { CheckContext, Path, SectionIssue } from '../config/section';
import { errorMessage } from '../errors';
import type { Shared } from '../shared/shared';
import type { Store } from '../store/store';

/**
 * GuardConfig is an action's `guard:` (monscale's bounds): the value it reads at the moment
 * of each decision (a shared state key, a shared counter, or a series' newest value) and the
 * bounds that value must stay within. `step` is what a run adds to the shared value (a
 * scale-up that adds a node: +1), so the next decision sees it even when the action's own
 * script does not update it.
 */
export interface GuardConfig {
  source: 'state' | 'counter' | 'series';
  /** The state bucket (`default` unless written `bucket/key`). */
  bucket?: string;
  /** The state key, the counter's name or the series' name. */
  name: string;
  min?: number;
  max?: number;
  step?: number;
}

/** SERIES_GUARD_MAX_AGE_MS: a series guard reads the newest value of this long; an older one is no reading. */
export const SERIES_GUARD_MAX_AGE_MS = 15 * 60_000;

/** guardSchema is the JSON Schema of `slas[].actions[].guard`; checkGuard adds what it cannot say. */
export const guardSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  'x-expected': 'a guard: { state: KEY | counter: NAME | series: NAME, min: N, max: N, step: N }',
  description: 'Bounds read at each decision: the action is refused when the value is at (or, after its step, past) min or max.',
  properties: {
    state: { type: 'string', minLength: 1, 'x-expected': 'a shared state key, or bucket/key', description: 'A shared state key holding a number ([bucket/]key; bucket default).' },
    counter: { type: 'string', minLength: 1, 'x-expected': 'a shared counter name', description: 'A shared counter.' },
    series: { type: 'string', minLength: 1, 'x-expected': 'a series name like web.nodes', description: 'A series: its newest value of the last 15 minutes.' },
    min: { type: 'number', 'x-expected': 'a number', description: 'Refused when the value is at or below min (with step: would go below it).' },
    max: { type: 'number', 'x-expected': 'a number', description: 'Refused when the value is at or above max (with step: would go above it).' },
    step: { type: 'number', 'x-expected': 'a number like 1 or -1', description: 'Added to the shared state value or counter when the action runs.' },
  },
};

type Raw = Record<string, unknown>;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** buildGuard builds a guard that passed guardSchema and checkGuard. */
export function buildGuard(raw: Raw): GuardConfig {
  let g: GuardConfig;
  if (typeof raw.state === 'string') {
    const slash = raw.state.indexOf('/');
    g = slash > 0 ? { source: 'state', bucket: raw.state.slice(0, slash), name: raw.state.slice(slash + 1) } : { source: 'state', bucket: 'default', name: raw.state };
  } else if (typeof raw.counter === 'string') {
    g = { source: 'counter', name: raw.counter };
  } else {
    g = { source: 'series', name: String(raw.series) };
  }
  if (isNum(raw.min)) g.min = raw.min;
  if (isNum(raw.max)) g.max = raw.max;
  if (isNum(raw.step)) g.step = raw.step;
  return g;
}

/** checkGuard: one source; a bound; min not above max; a step that is not 0, whole for a counter, never on a series; a series that exists. */
export function checkGuard(g: Raw, path: Path, ctx: CheckContext): SectionIssue[] {
  const issues: SectionIssue[] = [];
  const sources = (['state', 'counter', 'series'] as const).filter((k) => g[k] !== undefined);
  if (sources.length === 0) {
    issues.push({ path, message: 'a guard reads one value: state (a shared state key), counter (a shared counter) or series (a series\' newest value)' });
  } else if (sources.length > 1) {
    issues.push({ path, message: `a guard reads one value; it has ${sources.join(' and ')}: keep one` });
  }
  if (g.min === undefined && g.max === undefined) {
    issues.push({ path, message: 'a guard needs min or max (the bound the value must stay within), e.g. { state: web_nodes, max: 10, step: 1 }' });
  }
  if (isNum(g.min) && isNum(g.max) && g.min > g.max) {
    issues.push({ path: [...path, 'min'], message: `min (${g.min}) is above max (${g.max}); no value could pass` });
  }
  if (g.step !== undefined) {
    if (g.step === 0) issues.push({ path: [...path, 'step'], message: 'must not be 0; a scale-up adds (step: 1), a scale-down takes away (step: -1)' });
    else if (sources.length === 1 && sources[0] === 'series') {
      issues.push({ path: [...path, 'step'], message: 'step changes a shared value; a series is only read (the action\'s effect shows in the series itself)' });
    } else if (sources.length === 1 && sources[0] === 'counter' && isNum(g.step) && !Number.isInteger(g.step)) {
      issues.push({ path: [...path, 'step'], message: `a counter takes whole numbers; got ${g.step}` });
    }
  }
  if (typeof g.state === 'string' && /^\/|\/$/.test(g.state)) {
    issues.push({ path: [...path, 'state'], message: `"${g.state}" is not a state key; expected KEY (bucket default) or BUCKET/KEY` });
  }
  if (typeof g.series === 'string') {
    const issue = ctx.catalog.check(g.series, [...path, 'series']);
    if (issue) issues.push(issue);
  }
  return issues;
}

/** describeSource words where a guard reads: `state default/web_nodes`, `counter web_nodes`, `series web.nodes`. */
export function describeSource(g: GuardConfig): string {
  return g.source === 'state' ? `state ${g.bucket}/${g.name}` : `${g.source} ${g.name}`;
}

/** GuardReading is a guard's value read for a decision, or why it could not be read. */
export type GuardReading = { value: number } | { error: string };

/** GuardSources: where guards read from (a node without a store reads no series). */
export interface GuardSources {
  shared?: Shared;
  store?: Store;
}

/** readGuard reads a guard's value now; it never throws. */
export async function readGuard(g: GuardConfig, from: GuardSources, now: number): Promise<GuardReading> {
  const where = describeSource(g);
  try {
    if (g.source === 'series') {
      const store = from.store;
      if (!store || !store.has(g.name)) return { error: `${where} has no stored values` };
      const data = await store.fetch(g.name, { from: now - SERIES_GUARD_MAX_AGE_MS, to: now, maxPoints: 1000 });
      for (let i = data.points.length - 1; i >= 0; i--) {
        const v = data.points[i][1];
        if (v !== null && Number.isFinite(v)) return { value: v };
      }
      return { error: `${where} has no value in the last ${SERIES_GUARD_MAX_AGE_MS / 60_000}m` };
    }
    const shared = from.shared;
    if (!shared) return { error: `${where}: no shared backend` };
    if (g.source === 'counter') return { value: await shared.counters.get(g.name) };
    const v = await shared.state.get(g.bucket!, g.name);
    if (v === undefined) return { error: `${where} is not set` };
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) return { error: `${where} holds ${JSON.stringify(v).slice(0, 40)}, not a number` };
    return { value: n };
  } catch (err) {
    return { error: `cannot read ${where}: ${errorMessage(err)}` };
  }
}

/**
 * guardRefusal says why a guard refuses a run with the value read, or undefined when it
 * allows it. Without a step, the value must be below max and above min (the action moves
 * it toward the bound); with one, the value after the step must be within [min, max].
 */
export function guardRefusal(g: GuardConfig, value: number): string | undefined {
  const where = describeSource(g);
  if (g.step !== undefined) {
    const after = value + g.step;
    if (g.max !== undefined && after > g.max) return `${where} is ${value}; step ${signed(g.step)} would make it ${after}, above max ${g.max}`;
    if (g.min !== undefined && after < g.min) return `${where} is ${value}; step ${signed(g.step)} would make it ${after}, below min ${g.min}`;
    return undefined;
  }
  if (g.max !== undefined && value >= g.max) return `${where} is ${value}; at max ${g.max}`;
  if (g.min !== undefined && value <= g.min) return `${where} is ${value}; at min ${g.min}`;
  return undefined;
}

/** applyStep adds a guard's step to its shared value (a run was decided); it returns the value after, or throws. */
export async function applyStep(g: GuardConfig, shared: Shared, read: number): Promise<number> {
  const step = g.step!;
  if (g.source === 'counter') return shared.counters.incr(g.name, step);
  // The decision lock is held: no other node's action changes the value meanwhile.
  const after = read + step;
  await shared.state.set(g.bucket!, g.name, after);
  return after;
}

/** signed writes a step with its sign: +1, -2. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
