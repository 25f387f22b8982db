import { createError } from '../errors';
import { defineOp, noParams } from '../ops/operation';

const SERIES = '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$';
/** A query value: a number from JSON, or its text from a URL (checked by the handler). */
const numberish = { type: ['number', 'string'], maxLength: 40, 'x-expected': 'a number' };

/** storeStatus: the store's state (ok or degraded, and why), counters and gauges. */
export const storeStatus = defineOp({
  name: 'store.status',
  summary: 'The store: kind, ok or degraded and why, counters, gauges, and its bus subscription.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/store' },
  handler: (_p, { node }) => {
    const sub = node.busStats().subscribers.find((s) => s.name === 'store');
    return { ...node.store.status(), ...(sub && { subscriber: sub }) };
  },
});

/** seriesList: the names of every stored series. */
export const seriesList = defineOp({
  name: 'series.list',
  summary: 'The names of every series the store has.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/series' },
  handler: (_p, { node }) => node.store.list(),
});

/** MAX_POINTS bounds the points of one answer. */
export const MAX_POINTS = 10_000;
const MAX_T = 8.64e15;

function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw createError('REMON_ERR_OP_PARAMS', `${name} must be a number (epoch milliseconds or ms)`);
  return n;
}

/** seriesFetch: a range of one series, at most MAX_POINTS points (a coarser step when needed). */
export const seriesFetch = defineOp<{ name: string; from?: number | string; to?: number | string; step?: number | string }, unknown>({
  name: 'series.fetch',
  summary: 'Points [t_ms, value|null] of a series between from and to (epoch ms; default the last hour), at step ms.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: SERIES, 'x-expected': 'a series name, <block>.<field>' },
      from: numberish,
      to: numberish,
      step: numberish,
    },
  },
  write: false,
  http: { method: 'GET', path: '/api/series/:name' },
  handler: async (p, { node }) => {
    const now = Date.now();
    const from = num(p.from, 'from') ?? now - 3_600_000;
    const to = num(p.to, 'to') ?? now;
    let step = num(p.step, 'step');
    for (const [k, v] of [['from', from], ['to', to]] as const) {
      if (v < 0 || v > MAX_T) throw createError('REMON_ERR_OP_PARAMS', `${k} must be between 0 and ${MAX_T} (epoch ms); got ${v}`);
    }
    if (from > to) throw createError('REMON_ERR_OP_PARAMS', 'from must not be after to');
    if (step !== undefined && step <= 0) throw createError('REMON_ERR_OP_PARAMS', 'step must be positive');
    const least = Math.ceil((to - from) / MAX_POINTS);
    if (step === undefined || step < least) step = step === undefined && least <= 1 ? undefined : Math.max(step ?? 0, least);
    if (!node.store.list().includes(p.name)) throw createError('REMON_ERR_SERIES_UNKNOWN', `no series is named "${p.name}"`);
    return node.store.fetch(p.name, { from, to, step });
  },
});

/** storeOps are the store's operations. */
export const storeOps = [storeStatus, seriesList, seriesFetch];
