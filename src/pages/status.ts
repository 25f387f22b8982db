import { createError } from '../errors';
import type { JsonSchema } from '../engine/block';
import { defineOp, noParams, OpContext, Operation } from '../ops/operation';
import type { OpTable } from '../ops/table';
import type { Store } from '../store/store';
import { DEFAULT_STATUS_TITLE } from './section';

/** UPTIME_WINDOWS are the windows the status page and badges give uptime over. */
export const UPTIME_WINDOWS = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** UPTIME_POINTS bounds each uptime read (the store averages coarser beyond). */
const UPTIME_POINTS = 2_000;
/** MAX_INCIDENTS is how many incidents the status page lists per SLA, newest first. */
const MAX_INCIDENTS = 20;

/** Incident is a firing of an SLA, as the alerts keep it (times ISO-8601). */
export interface Incident {
  id: string;
  state: string;
  startedAt: string;
  resolvedAt: string | null;
  duration_s: number | null;
  message: string;
}

/** StatusSla is one SLA as the status page shows it. */
export interface StatusSla {
  name: string;
  /** ok, pending, firing, unknown or inactive (slas.list). */
  state: string;
  since: string | null;
  message: string;
  /** The share of evaluations that passed (0..1) over each window, from the stored `sla.<name>.ok`; null without data. */
  uptime: Record<UptimeWindow, number | null>;
  incidents: Incident[];
}

/** StatusSummary is the status page's data. */
export interface StatusSummary {
  title: string;
  generatedAt: string;
  slas: StatusSla[];
}

interface SlaRow {
  name: string;
  state: string;
  since?: string;
  message?: string;
}

interface AlertRow {
  id: string;
  sla: string;
  state: string;
  firedAt: string | null;
  resolvedAt: string | null;
  duration_s: number | null;
  message: string;
}

/** uptimeOf is the mean of the stored `sla.<name>.ok` over a window ending now (null when nothing is stored). */
export async function uptimeOf(store: Store, name: string, windowMs: number, now: number): Promise<number | null> {
  const series = `sla.${name}.ok`;
  if (!store.has(series)) return null;
  const data = await store.fetch(series, { from: now - windowMs, to: now, maxPoints: UPTIME_POINTS });
  let sum = 0;
  let n = 0;
  for (const [, v] of data.points) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n === 0 ? null : sum / n;
}

/** read calls a read operation the node may lack (no SLAs, no alerts): undefined then. */
async function read<T>(ops: OpTable, name: string, params: Record<string, unknown>, ctx: OpContext): Promise<T | undefined> {
  if (!ops.declares(name)) return undefined;
  try {
    return (await ops.invoke(name, params, { authorized: ctx.authorized, via: 'internal' })).value as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'REMON_ERR_UNAVAILABLE') return undefined;
    throw err;
  }
}

/** shownSlas are the SLAs the status page shows: web.status.slas (in that order), or all. */
async function shownSlas(ops: OpTable, ctx: OpContext): Promise<SlaRow[]> {
  const all = (await read<SlaRow[]>(ops, 'slas.list', {}, ctx)) ?? [];
  const wanted = ctx.node.config.web?.status.slas;
  if (!wanted) return all;
  const byName = new Map(all.map((s) => [s.name, s]));
  return wanted.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []));
}

/** statusOf builds the status of some SLAs: uptime over each window, and their incidents from the alerts. */
async function statusOf(ops: OpTable, ctx: OpContext, rows: SlaRow[]): Promise<StatusSla[]> {
  const now = Date.now();
  const alerts = rows.length ? (await read<AlertRow[]>(ops, 'alerts.list', { limit: 10000 }, ctx)) ?? [] : [];
  return Promise.all(rows.map(async (s) => {
    const uptime = {} as Record<UptimeWindow, number | null>;
    for (const [w, ms] of Object.entries(UPTIME_WINDOWS)) uptime[w as UptimeWindow] = await uptimeOf(ctx.node.store, s.name, ms, now);
    const incidents = alerts
      .filter((a) => a.sla === s.name && a.firedAt !== null)
      .slice(0, MAX_INCIDENTS)
      .map((a) => ({ id: a.id, state: a.state, startedAt: a.firedAt!, resolvedAt: a.resolvedAt, duration_s: a.duration_s, message: a.message }));
    return { name: s.name, state: s.state, since: s.since ?? null, message: s.message ?? '', uptime, incidents };
  }));
}

const slaName: JsonSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 200, 'x-expected': 'an SLA name' };

/**
 * statusOps are the public status page's reads (no token needed, like every read): the
 * SLAs of `web.status.slas` (all when unset) with state, uptime over 24 h / 7 d / 30 d
 * from the stored `sla.<name>.ok`, and incidents (the alerts that fired for them).
 */
export function statusOps(ops: OpTable): Array<Operation<any, unknown>> {
  const summary = defineOp<Record<string, never>, StatusSummary>({
    name: 'status.summary',
    summary: 'The status page: its title and the SLAs it shows (web.status.slas, or all), each with state, uptime over 24h/7d/30d and incidents.',
    params: noParams,
    write: false,
    handler: async (_p, ctx) => ({
      title: ctx.node.config.web?.status.title ?? DEFAULT_STATUS_TITLE,
      generatedAt: new Date().toISOString(),
      slas: await statusOf(ops, ctx, await shownSlas(ops, ctx)),
    }),
  });
  const one = defineOp<{ name: string }, StatusSla>({
    name: 'status.sla',
    summary: 'One SLA of the status page (for a badge): state, uptime over 24h/7d/30d, incidents.',
    params: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: slaName } },
    write: false,
    handler: async (p, ctx) => {
      const row = (await shownSlas(ops, ctx)).find((s) => s.name === p.name);
      if (!row) throw createError('REMON_ERR_SLA_UNKNOWN', `no SLA named "${p.name}" is on the status page`);
      return (await statusOf(ops, ctx, [row]))[0];
    },
  });
  return [summary, one];
}
