import { checkGuard } from '../alerts/guard';
import { escalationIssue, refIssue } from '../alerts/sections/common';
import type { CheckContext, Path, SectionIssue } from '../config/section';
import { cronProblem, tzProblem } from '../heartbeat/schedule';
import { checkSeriesExpr, compileSeries } from '../series';
import { parseDuration } from '../util/duration';
import { targetOf } from './section';

type Raw = Record<string, unknown>;

const isMap = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * checkSlas runs the checks of `slas:` the schema cannot express: unique names; a test or
 * an objective (not both); each condition parsed, a condition (true/false), over series
 * that exist (did you mean); `during`'s cron and time zone; slots only with `during`; an
 * objective's target below 100% and its window longer than 0s; depends_on naming SLAs or
 * heartbeats, not itself, without loops; escalate naming a policy under `escalations:`.
 * Afterwards each SLA's own series are in the catalog, for the sections after it.
 */
export function checkSlas(raw: unknown, ctx: CheckContext): SectionIssue[] {
  const issues: SectionIssue[] = [];
  const slas = Array.isArray(raw) ? raw : [];
  const first = new Map<string, number>();
  slas.forEach((s, i) => {
    if (!isMap(s) || typeof s.name !== 'string') return;
    const taken = first.get(s.name);
    if (taken === undefined) first.set(s.name, i);
    else issues.push({ path: ['slas', i, 'name'], message: `duplicate SLA name "${s.name}"; slas[${taken}] has it already` });
  });
  const heartbeats = heartbeatNames(ctx.raw.blocks);
  slas.forEach((s, i) => {
    if (!isMap(s)) return;
    checkTest(s, i, first, ctx, issues);
    checkTiming(s, i, issues);
    checkRefs(s, i, first, heartbeats, ctx, issues);
    if (Array.isArray(s.actions)) s.actions.forEach((a, j) => checkAction(a, ['slas', i, 'actions', j], ctx, issues));
  });
  issues.push(...dependencyLoops(slas, first));
  for (const name of first.keys()) {
    ctx.catalog.add(`sla.${name}.ok`);
    ctx.catalog.add(`sla.${name}.budget_remaining`);
  }
  return issues;
}

/** checkAction: run or webhook; repeat with a cooldown; the guard sound. */
function checkAction(a: unknown, path: Path, ctx: CheckContext, issues: SectionIssue[]): void {
  if (!isMap(a)) return;
  if ((a.run === undefined) === (a.webhook === undefined)) {
    issues.push({ path, message: a.run === undefined ? 'an action needs run (a command) or webhook (a URL)' : 'an action has run or webhook, not both; give two actions for both' });
  }
  if (a.repeat === true && !(typeof a.cooldown === 'string' && (parseDuration(a.cooldown) ?? 0) > 0)) {
    issues.push({ path: [...path, 'repeat'], message: 'repeat runs the action again each cooldown while the SLA fires; give a cooldown longer than 0s, e.g. cooldown: 10m' });
  }
  if (isMap(a.guard)) issues.push(...checkGuard(a.guard, [...path, 'guard'], ctx));
}

/** checkTest: a test or an objective, each condition sound. */
function checkTest(s: Raw, i: number, slas: ReadonlyMap<string, number>, ctx: CheckContext, issues: SectionIssue[]): void {
  const o = s.objective;
  if (s.test !== undefined && o !== undefined) {
    issues.push({ path: ['slas', i, 'objective'], message: 'an SLA has a test or an objective, not both; the objective\'s good condition is its test' });
  } else if (s.test === undefined && o === undefined) {
    issues.push({ path: ['slas', i], message: 'needs a test (a condition, e.g. test: homepage.up == 1) or an objective ({ good: <condition>, target: 99.9%, window: 30d })' });
  }
  if (typeof s.test === 'string') checkCondition(s.test, ['slas', i, 'test'], s.name, slas, ctx, issues);
  if (!isMap(o)) return;
  if (typeof o.good === 'string') checkCondition(o.good, ['slas', i, 'objective', 'good'], s.name, slas, ctx, issues);
  const t = o.target;
  const target = typeof t === 'number' ? t : typeof t === 'string' && /^[0-9]+(\.[0-9]+)?%$/.test(t) ? targetOf(t) : undefined;
  if (target !== undefined && !(target > 0 && target < 1)) {
    issues.push({ path: ['slas', i, 'objective', 'target'], message: `must be above 0% and below 100%; got ${String(t)} (99.9% or 0.999 keeps an error budget of 0.1%)` });
  }
  if (typeof o.window === 'string' && parseDuration(o.window) === 0) {
    issues.push({ path: ['slas', i, 'objective', 'window'], message: `must be longer than 0s; got "${o.window}"` });
  }
}

/**
 * checkCondition: the expression's own problems and unknown series, then that it is a
 * condition. SLAs' own series are not there for tests (an SLA whose state feeds another's
 * test could flap the two forever); depends_on is the way to relate SLAs.
 */
function checkCondition(src: string, path: Path, self: unknown, slas: ReadonlyMap<string, number>, ctx: CheckContext, issues: SectionIssue[]): void {
  const found = checkSeriesExpr(src, ctx.catalog, path);
  if (found.length > 0) {
    for (const f of found) {
      const own = /^no series is named "sla\.([^"]+)\.(ok|budget_remaining)"/.exec(f.message);
      if (own && slas.has(own[1])) {
        f.message = `a test cannot read an SLA's series (sla.${own[1]}.${own[2]})`;
        if (own[1] !== self) f.message += `; to hold this SLA while "${own[1]}" fires, use depends_on: [${own[1]}]`;
      }
      issues.push(f);
    }
    return;
  }
  let type: string;
  try {
    type = compileSeries(src).type;
  } catch {
    return; // checkSeriesExpr reported it
  }
  if (type !== 'boolean') {
    issues.push({ path, message: `is a number, not a condition (true or false); compare it to a value, e.g. "${src} == 1"` });
  }
}

/** checkTiming: during's cron and zone, slots with during, durations that must be positive. */
function checkTiming(s: Raw, i: number, issues: SectionIssue[]): void {
  const d = s.during;
  if (isMap(d)) {
    if (typeof d.cron === 'string') {
      const why = cronProblem(d.cron);
      if (why) issues.push({ path: ['slas', i, 'during', 'cron'], message: `is not a cron expression (${why}); expected e.g. "* 8-20 * * 1-5" (every minute from 08:00 to 20:59, Monday to Friday)` });
    }
    if (typeof d.tz === 'string') {
      const why = tzProblem(d.tz);
      if (why) issues.push({ path: ['slas', i, 'during', 'tz'], message: why });
    }
  } else if (s.slots === true) {
    issues.push({ path: ['slas', i, 'slots'], message: 'slots are the fire times of during; add during: { cron: "*/5 * * * *" } or remove slots' });
  }
  if (typeof s.every === 'string' && parseDuration(s.every) === 0) {
    issues.push({ path: ['slas', i, 'every'], message: `must be longer than 0s; got "${s.every}"` });
  }
}

/** checkRefs: depends_on and escalate name things that exist. */
function checkRefs(s: Raw, i: number, slas: ReadonlyMap<string, number>, heartbeats: readonly string[], ctx: CheckContext, issues: SectionIssue[]): void {
  if (Array.isArray(s.depends_on)) {
    const known = [...slas.keys(), ...heartbeats];
    s.depends_on.forEach((dep, j) => {
      if (typeof dep !== 'string') return;
      const path = ['slas', i, 'depends_on', j];
      const issue = dep === s.name ? { path, message: 'an SLA cannot depend on itself' } : refIssue('SLA or heartbeat', dep, known, path);
      if (issue) issues.push(issue);
    });
  }
  const esc = escalationIssue(ctx.raw, s.escalate, ['slas', i, 'escalate']);
  if (esc) issues.push(esc);
}

/** heartbeatNames are the names of heartbeat blocks (their alerts can inhibit an SLA too). */
function heartbeatNames(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.filter((b): b is Raw => isMap(b) && b.type === 'heartbeat' && typeof b.name === 'string').map((b) => b.name as string);
}

/** dependencyLoops reports each loop of depends_on once, at the first SLA of it: `a → b → a`. */
function dependencyLoops(slas: unknown[], first: ReadonlyMap<string, number>): SectionIssue[] {
  const deps = new Map<string, string[]>();
  for (const [name, i] of first) {
    const s = slas[i] as Raw;
    deps.set(name, Array.isArray(s.depends_on) ? s.depends_on.filter((d): d is string => typeof d === 'string' && d !== name && first.has(d)) : []);
  }
  const issues: SectionIssue[] = [];
  const done = new Set<string>();
  const reported = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    const at = stack.indexOf(name);
    if (at >= 0) {
      const loop = stack.slice(at);
      const key = [...loop].sort().join('\u0000');
      if (!reported.has(key)) {
        reported.add(key);
        const start = loop.reduce((a, b) => (first.get(a)! <= first.get(b)! ? a : b));
        const k = loop.indexOf(start);
        const ordered = [...loop.slice(k), ...loop.slice(0, k), start];
        issues.push({ path: ['slas', first.get(start)!, 'depends_on'], message: `depends_on makes a loop: ${ordered.join(' → ')}; each would hold the other's alerts` });
      }
      return;
    }
    if (done.has(name)) return;
    stack.push(name);
    for (const d of deps.get(name) ?? []) visit(d);
    stack.pop();
    done.add(name);
  };
  for (const name of first.keys()) visit(name);
  return issues;
}
