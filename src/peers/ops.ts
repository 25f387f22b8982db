import { createError } from '../errors';
import { defineOp, noParams, OpContext } from '../ops/operation';
import type { Federation, PeerView } from './federation';

/** The federation of each node, for the operations (a handler reaches its node only). */
const federations = new WeakMap<object, Federation>();

/** bindFederation makes a node's peers reachable from its operations. */
export function bindFederation(node: object, f: Federation): void {
  federations.set(node, f);
}

function federationOf(ctx: OpContext): Federation {
  const f = federations.get(ctx.node);
  if (!f) throw createError('REMON_ERR_UNAVAILABLE', 'peers are not available on this node');
  return f;
}

/** peersList: every peer, up or down since when, and its blocks, SLAs and alerts labelled by node. */
export const peersList = defineOp<Record<string, never>, PeerView[]>({
  name: 'peers.list',
  summary: 'Every peer (peers: in monitor.yaml): state up|down|unknown, since, the last error, and its blocks, SLAs and alerts, each labelled with `node`.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/peers' },
  handler: (_p, ctx) => federationOf(ctx).list(),
});

/** peersGet: one peer. */
export const peersGet = defineOp<{ name: string }, PeerView>({
  name: 'peers.get',
  summary: 'One peer: its state, since, the last error, and its blocks, SLAs and alerts labelled by node.',
  params: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', maxLength: 200 } } },
  write: false,
  http: { method: 'GET', path: '/api/peers/:name' },
  handler: (p, ctx) => federationOf(ctx).get(p.name),
});

/** peerOps are the federation's operations. */
export const peerOps = [peersList, peersGet];
