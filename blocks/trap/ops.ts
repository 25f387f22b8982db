import { createError } from '../../src/errors';
import { defineOp, noParams, OpContext } from '../../src/ops/operation';
import type { SentTrap, TrapHub } from './hub';

/** SEND_BODY_LIMIT: the largest PUT /trap body, in bytes (a name, a number and a short message). */
export const SEND_BODY_LIMIT = 4096;
/** MESSAGE_LIMIT: the longest message a sent trap carries. */
export const MESSAGE_LIMIT = 1000;

/** hubOf is the node's trap hub, or REMON_ERR_UNAVAILABLE. */
function hubOf(ctx: OpContext): TrapHub {
  const hub = ctx.node.hub('trap') as TrapHub | undefined;
  if (!hub) throw createError('REMON_ERR_UNAVAILABLE', 'traps are not available on this node');
  return hub;
}

/** trapSend: another system pushes an event: a value (and a message) for a trap block. */
export const trapSend = defineOp<SentTrap & { name: string }, unknown>({
  name: 'trap.send',
  summary: 'A trap over HTTP: a value (and a message, and ok) for a trap block; one result with received = 1 and value.',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'value'],
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$', 'x-expected': 'a block name (1-128 letters, digits, _ and -)' },
      value: { type: 'number', 'x-expected': 'a number' },
      message: { type: 'string', maxLength: MESSAGE_LIMIT, 'x-expected': `a text of at most ${MESSAGE_LIMIT} characters` },
      ok: { type: 'boolean', 'x-expected': 'true or false' },
    },
  },
  write: true,
  http: { method: 'PUT', path: '/trap', bodyLimit: SEND_BODY_LIMIT },
  handler: ({ name, ...sent }, ctx) => hubOf(ctx).send(name, sent),
});

/** trapsList: the trap receivers (what each saw and refused) and the trap blocks. */
export const trapsList = defineOp({
  name: 'traps.list',
  summary: 'The SNMP trap receivers (listening or why not, traps taken, packets refused) and each trap block (traps received, the last one).',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/traps' },
  handler: (_p, ctx) => hubOf(ctx).list(),
});

/** trapOps are the trap type's operations. */
export const trapOps = [trapSend, trapsList];
