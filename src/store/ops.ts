import { createError } from '../errors';
import { defineOp, noParams } from '../ops/operation';
import { RangeQuery, resolveRange } from './range';

const SERIES = '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$';
/** A query value: a number from JSON, or its text from a URL; resolveRange checks it and words what is wrong (a repeated parameter too). */
const numberish = { type: ['number', 'string', 'array', 'null'], 'x-expected': 'a number' };

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

/** seriesFetch: a range of one series, bounded: at most 10,000 points (a coarser step when needed). */
export const seriesFetch = defineOp<{ name: string } & RangeQuery, unknown>({
  name: 'series.fetch',
  summary: 'Points [t_ms, value|null] of a series between from and to (epoch ms; default the last hour), at step ms; at most `points` (10,000) of them.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: SERIES, 'x-expected': 'a series name, <block>.<field>' },
      from: numberish,
      to: numberish,
      step: numberish,
      points: numberish,
    },
  },
  write: false,
  http: { method: 'GET', path: '/api/series/:name' },
  handler: async ({ name, ...query }, { node }) => {
    const range = resolveRange(query, Date.now());
    if (typeof range === 'string') throw createError('REMON_ERR_OP_PARAMS', range);
    if (!(node.store.has(name) || (await node.store.lookup?.(name)))) throw createError('REMON_ERR_SERIES_UNKNOWN', `no series is named "${name}"`);
    return node.store.fetch(name, range);
  },
});

/** storeOps are the store's operations. */
export const storeOps = [storeStatus, seriesList, seriesFetch];
