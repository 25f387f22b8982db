import { createError, errorMessage } from '../errors';
import type { Logger } from '../log';
import type { OpTable } from '../ops/table';
import type { Call, Invoke } from './protocol';

/** LIVE_METHODS are the methods of the WebSocket alone: they need a connection to send events on. */
export const LIVE_METHODS = new Set(['live.subscribe', 'live.unsubscribe']);

/**
 * opInvoker makes a call on the operations table with the caller's rights (via 'rpc'). An
 * error without a remon code is a bug: it is logged, and the client hears "internal error".
 * The live methods answer that they need the WebSocket.
 */
export function opInvoker(ops: OpTable, authorized: boolean, log: Logger): Invoke {
  return async (call: Call) => {
    if (LIVE_METHODS.has(call.method)) {
      throw createError('REMON_ERR_RPC_TRANSPORT', `${call.method} works over the WebSocket /rpc only: subscriptions need a connection to send their events on`);
    }
    try {
      return (await ops.invoke(call.method, call.params, { authorized, via: 'rpc' })).value;
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      if (typeof code !== 'string' || !code.startsWith('REMON_ERR_')) log.error({ method: call.method, err: errorMessage(err) }, 'rpc call failed');
      throw err;
    }
  };
}
