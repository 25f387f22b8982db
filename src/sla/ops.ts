import { createError } from '../errors';
import { defineOp, noParams, OpContext } from '../ops/operation';
import { formatDuration } from '../util/duration';
import type { RunnerEntry, SlaRunner } from './runner';
import type { SlaStats } from './sla';
import type { SlaState } from './types';

/** SlaView is one SLA as `GET /api/slas` shows it (times ISO-8601). */
export interface SlaView {
  name: string;
  state: SlaState;
  /** When the state began. */
  since: string;
  /** The last evaluation's values as a line (`homepage.fast_ratio (0.65) >= 0.8`), or why it is inactive. */
  message: string;
  /** The last evaluation: its value (null: unknown) and time. */
  value: number | boolean | null;
  at: string | null;
  test: string;
  mode: 'samples' | 'slots';
  severity: string;
  labels: Record<string, string>;
  for: string;
  keepFiringFor: string;
  cooldown: string;
  noData: string;
  during?: { cron: string; tz: string };
  dependsOn: string[];
  escalate?: string;
  /** Objective SLAs: target (0.999), window, the error budget left (null without evaluations), the burn alert that holds. */
  objective?: { target: number; window: string; budgetRemaining: number | null; burn: string | null };
  /** Slots SLAs: the last slot evaluated. */
  watermark?: string;
  lastError?: { message: string; at: string };
  stats: SlaStats;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

/** viewOf renders a runner entry for the API. */
export function viewOf(e: RunnerEntry): SlaView {
  const { config: c, status: s } = e;
  const v: SlaView = {
    name: c.name, state: s.state, since: iso(s.since)!, message: s.message, value: s.value, at: iso(s.at),
    test: c.test, mode: s.mode, severity: c.severity, labels: { ...c.labels },
    for: formatDuration(c.forMs), keepFiringFor: formatDuration(c.keepFiringForMs), cooldown: formatDuration(c.cooldownMs), noData: c.noData,
    dependsOn: [...c.dependsOn], stats: s.stats,
  };
  if (c.during) v.during = { ...c.during };
  if (c.escalate !== undefined) v.escalate = c.escalate;
  if (c.objective) {
    const w = c.objective.windowMs;
    // Objective windows are said in days (30d, not 4w2d).
    const window = w % 86_400_000 === 0 ? `${w / 86_400_000}d` : formatDuration(w);
    v.objective = { target: c.objective.target, window, budgetRemaining: s.budgetRemaining ?? null, burn: s.burn ?? null };
  }
  if (s.watermark !== undefined) v.watermark = iso(s.watermark) ?? undefined;
  if (s.lastError) v.lastError = { message: s.lastError.message, at: iso(s.lastError.at)! };
  return v;
}

/** The runner of each node, for the operations (a handler reaches its node only). */
const runners = new WeakMap<object, SlaRunner>();

/** bindRunner makes a node's SLAs reachable from its operations. */
export function bindRunner(node: object, runner: SlaRunner): void {
  runners.set(node, runner);
}

function runnerOf(ctx: OpContext): SlaRunner {
  const r = runners.get(ctx.node);
  if (!r) throw createError('REMON_ERR_UNAVAILABLE', 'SLA tests are not available on this node');
  return r;
}

/** slasList: every SLA with its state, since and the values of its last test. */
export const slasList = defineOp({
  name: 'slas.list',
  summary: 'Every SLA: state (ok, pending, firing, unknown, inactive), since, the values of its last test, severity, labels.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/slas' },
  handler: (_p, ctx) => runnerOf(ctx).list().map(viewOf),
});

/** slasGet: one SLA. */
export const slasGet = defineOp<{ name: string }, SlaView>({
  name: 'slas.get',
  summary: 'One SLA: its state, since, the values of its last test, its settings and counts.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name: { type: 'string', maxLength: 200 } },
  },
  write: false,
  http: { method: 'GET', path: '/api/slas/:name' },
  handler: (p, ctx) => {
    const e = runnerOf(ctx).get(p.name);
    if (!e) throw createError('REMON_ERR_SLA_UNKNOWN', `no SLA is named "${p.name}"`);
    return viewOf(e);
  },
});

/** slaOps are the SLA tests' operations. */
export const slaOps = [slasList, slasGet];
