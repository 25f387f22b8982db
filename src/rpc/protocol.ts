import { createError, errorMessage, rpcCodeOf } from '../errors';

/**
 * The JSON-RPC 2.0 wire format (https://www.jsonrpc.org/specification) as remon speaks it
 * over POST /rpc and the WebSocket /rpc: parsing a message into calls (one, or a batch of
 * at most MAX_BATCH), and the answers (results and errors) as objects ready to send.
 */

/** MAX_BATCH: the most calls one batch may hold. */
export const MAX_BATCH = 100;
/** MAX_MESSAGE: the largest message (a POST body, a WebSocket message) in bytes. */
export const MAX_MESSAGE = 256 * 1024;

/** Id is a request's id: a string, a number or null; a call without one is a notification. */
export type Id = string | number | null;

/** Call is one request of a message: a method, its params (an object), and its id unless a notification. */
export interface Call {
  method: string;
  params: Record<string, unknown>;
  /** Absent for a notification (no answer is sent). */
  id?: Id;
}

/** RpcError is the `error` member of an answer. */
export interface RpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** Answer is one response object. */
export type Answer = { jsonrpc: '2.0'; id: Id; result: unknown } | { jsonrpc: '2.0'; id: Id; error: RpcError };

/** Item is one element of a parsed message: a call to make, or an answer already known (an invalid request). */
export type Item = { call: Call } | { answer: Answer };

/** Parsed is a message: its items, and whether it was a batch (its answers go back as an array). */
export interface Parsed {
  batch: boolean;
  items: Item[];
}

/** failure is the answer to a call that failed: the JSON-RPC code from the remon code, and `data.code`. */
export function failure(id: Id, err: unknown): Answer {
  const code = (err as { code?: unknown })?.code;
  const coded = typeof code === 'string' && code.startsWith('REMON_ERR_');
  const details = (err as { details?: Record<string, unknown> })?.details;
  const error: RpcError = {
    code: rpcCodeOf(err),
    message: coded ? errorMessage(err) : 'internal error',
    ...(coded && { data: { code, ...details } }),
  };
  return { jsonrpc: '2.0', id, error };
}

/** success is the answer to a call that returned (undefined answers null). */
export function success(id: Id, result: unknown): Answer {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result };
}

const isId = (v: unknown): v is Id => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** invalid is the answer to an element that is not a request (its id when it had a readable one). */
function invalid(id: unknown, why: string): Item {
  return { answer: failure(isId(id) ? id : null, createError('REMON_ERR_RPC_INVALID', `invalid request: ${why}`)) };
}

/** item checks one request object of a message. */
function item(v: unknown): Item {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return invalid(null, `expected an object {"jsonrpc": "2.0", "method", "params", "id"}, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`);
  const r = v as Record<string, unknown>;
  if (r.jsonrpc !== '2.0') return invalid(r.id, '"jsonrpc" must be "2.0"');
  if ('id' in r && !isId(r.id)) return invalid(null, '"id" must be a string, a number or null');
  if (typeof r.method !== 'string' || r.method === '') return invalid(r.id, '"method" must be a non-empty string');
  if (r.method.length > 200) return invalid(r.id, '"method" is longer than 200 characters');
  let params: Record<string, unknown> = {};
  if (r.params !== undefined) {
    if (typeof r.params !== 'object' || r.params === null) return invalid(r.id, '"params" must be an object (params by name)');
    if (Array.isArray(r.params)) {
      // By-position params are valid JSON-RPC but remon's methods take names: invalid params.
      if (r.params.length > 0) {
        return { answer: failure(isId(r.id) ? r.id : null, createError('REMON_ERR_OP_PARAMS', `${r.method} takes params by name (an object), not a list`)) };
      }
    } else params = r.params as Record<string, unknown>;
  }
  const call: Call = { method: r.method, params };
  if ('id' in r) call.id = r.id as Id;
  return { call };
}

/**
 * parse reads one message: a request or a batch of them. Text that is not JSON is a parse
 * error (thrown, REMON_ERR_RPC_PARSE); an empty batch or one over MAX_BATCH is an invalid
 * request (thrown, REMON_ERR_RPC_INVALID); an element that is not a request becomes its
 * own error answer and the others still run.
 */
export function parse(text: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw createError('REMON_ERR_RPC_PARSE', `parse error: ${errorMessage(err)}`);
  }
  if (!Array.isArray(v)) return { batch: false, items: [item(v)] };
  if (v.length === 0) throw createError('REMON_ERR_RPC_INVALID', 'invalid request: an empty batch');
  if (v.length > MAX_BATCH) throw createError('REMON_ERR_RPC_INVALID', `invalid request: a batch holds at most ${MAX_BATCH} calls; this one has ${v.length}`);
  return { batch: true, items: v.map(item) };
}

/** Invoke makes one call; it may throw (a coded error becomes the call's error answer). */
export type Invoke = (call: Call) => Promise<unknown>;

/**
 * answer runs a parsed message's calls in order (a batch runs one call after the other, so
 * a `state.set` is seen by a `state.get` after it) and gives what to send back: one answer,
 * an array of them for a batch, or undefined when every call was a notification.
 */
export async function answer(parsed: Parsed, invoke: Invoke): Promise<Answer | Answer[] | undefined> {
  const out: Answer[] = [];
  for (const it of parsed.items) {
    if ('answer' in it) {
      out.push(it.answer);
      continue;
    }
    const { call } = it;
    let a: Answer;
    try {
      a = success(call.id ?? null, await invoke(call));
    } catch (err) {
      a = failure(call.id ?? null, err);
    }
    if (call.id !== undefined) out.push(a);
  }
  if (out.length === 0) return undefined;
  return parsed.batch ? out : out[0];
}
