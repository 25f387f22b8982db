import { createError } from '../errors';
import { callbackOp, defineOp, noParams, OpContext } from '../ops/operation';
import type { HeartbeatHub, SignalAnswer } from './hub';
import { OPTION_KEYS } from './options';
import { BODY_LIMIT, Signal } from './types';

/** hubOf is the node's heartbeat hub, or REMON_ERR_UNAVAILABLE. */
function hubOf(ctx: OpContext): HeartbeatHub {
  const hub = ctx.node.hub('heartbeat') as HeartbeatHub | undefined;
  if (!hub) throw createError('REMON_ERR_UNAVAILABLE', 'heartbeats are not available on this node');
  return hub;
}

// Names are checked by the hub, whose words the /hb routes answer with.
const name = { type: 'string' };

/** heartbeatsList: every heartbeat with its state and next deadline. */
export const heartbeatsList = defineOp({
  name: 'heartbeats.list',
  summary: 'Every heartbeat: state, schedule, last success, next deadline, how it differs from monitor.yaml.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/heartbeats' },
  handler: (_p, ctx) => hubOf(ctx).list(),
});

/** heartbeatsGet: one heartbeat with its history of signals and events. */
export const heartbeatsGet = defineOp<{ name: string }, unknown>({
  name: 'heartbeats.get',
  summary: 'One heartbeat, with its recent signals and events.',
  params: { type: 'object', additionalProperties: false, required: ['name'], properties: { name } },
  write: false,
  http: { method: 'GET', path: '/api/heartbeats/:name' },
  handler: (p, ctx) => {
    const hb = hubOf(ctx).get(p.name);
    if (!hb) throw createError('REMON_ERR_HEARTBEAT_UNKNOWN', `no heartbeat is named "${p.name}"`);
    return hb;
  },
});

/** heartbeatsConfigure: create or edit a heartbeat at run time (`remon config`); 201 when created. */
export const heartbeatsConfigure = defineOp<Record<string, unknown> & { name: string }, unknown>({
  name: 'heartbeats.configure',
  summary: 'Create or edit a heartbeat at run time; kept across restarts, shown as differing from monitor.yaml until written back.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name, ...Object.fromEntries(OPTION_KEYS.map((k) => [k, {}])) },
  },
  write: true,
  http: { method: 'POST', path: '/api/heartbeats/:name' },
  handler: async ({ name: n, ...patch }, ctx) => {
    const hub = hubOf(ctx);
    const existed = hub.has(n);
    const view = await hub.configure(n, patch);
    if (!existed) ctx.status = 201;
    return view;
  },
});

/** SendParams: a signal as the /hb routes and RPC give it. */
export interface SendParams {
  name: string;
  kind?: Signal['kind'];
  exit_code?: number;
  rid?: string;
  body?: string;
}

/** heartbeatSend: a job reports in (no token: the one write that needs none). */
export const heartbeatSend = callbackOp<SendParams, SignalAnswer>({
  name: 'heartbeat.send',
  summary: 'A heartbeat signal: success (default), start, fail, or exit with exit_code; answered once durable.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name,
      kind: { enum: ['success', 'start', 'fail', 'exit'] },
      exit_code: { type: 'integer' },
      rid: { type: 'string' },
      body: { type: 'string' },
    },
  },
  write: false,
  start: (p, ctx, done) => {
    const signal: Signal = { kind: p.kind ?? 'success' };
    if (p.exit_code !== undefined) {
      signal.kind = 'exit';
      signal.exitCode = p.exit_code;
    }
    if (p.rid !== undefined) signal.rid = p.rid;
    if (p.body) signal.body = p.body.slice(0, BODY_LIMIT);
    hubOf(ctx).signalThen(p.name, signal, done);
  },
});

/** heartbeatOps are the heartbeats' operations. */
export const heartbeatOps = [heartbeatsList, heartbeatsGet, heartbeatsConfigure, heartbeatSend];
