import type { JsonSchema } from '../engine/block';
import type { NodeApi } from './node';

/** Via says through which door an operation was called. */
export type Via = 'http' | 'rpc' | 'cli' | 'page' | 'internal';

/** OpContext is what a handler gets besides its params. */
export interface OpContext {
  node: NodeApi;
  /** The caller presented the node token, or the node has none. */
  authorized: boolean;
  via: Via;
  /**
   * status lets a handler choose the HTTP status of a success (201 for "created"); other
   * doors ignore it.
   */
  status?: number;
}

/** HttpBinding is the REST route an operation answers on (path params as `:name`). */
export interface HttpBinding {
  /** GET takes params from the query string; POST and PUT from a JSON object body. */
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** The largest JSON body the route takes, in bytes (default: the REST limit, 64 kB). */
  bodyLimit?: number;
}

/**
 * Operation is one thing a person or a script can do to a node, declared once: a name
 * `area.verb`, a params schema (an object schema, checked before the handler runs),
 * whether it writes (and so needs the token when one is set), and a handler. REST routes,
 * JSON-RPC, the CLI and page scripts all call it through the OpTable.
 *
 * Handlers reach the node only through `ctx.node` (an interface), so a module of
 * operations imports no engine and the CLI can read an operation's name and route cheaply.
 */
export interface Operation<P = Record<string, unknown>, R = unknown> {
  name: string;
  summary: string;
  params: JsonSchema;
  write: boolean;
  http?: HttpBinding;
  handler(params: P, ctx: OpContext): R | Promise<R>;
  /**
   * start is the handler in callback form, for operations called thousands of times a
   * second (heartbeat signals): OpTable.call uses it and spares a promise and its reactions
   * per call. An operation that has it gets its handler from it (callbackOp).
   */
  start?(params: P, ctx: OpContext, done: OpDone<R>): void;
}

/** OpDone hears an operation's end: an error, or its value. Called once. */
export type OpDone<R = unknown> = (err: unknown, value?: R) => void;

/** callbackOp declares an operation by its callback form; its handler is the same, as a promise. */
export function callbackOp<P, R>(op: Omit<Operation<P, R>, 'handler' | 'start'> & { start(params: P, ctx: OpContext, done: OpDone<R>): void }): Operation<P, R> {
  const start = op.start;
  return defineOp<P, R>({
    ...op,
    start,
    handler: (params, ctx) => new Promise<R>((resolve, reject) => start(params, ctx, (err, value) => (err ? reject(err) : resolve(value as R)))),
  });
}

/** NAME_PATTERN is what operation names look like: area.verb. */
export const OP_NAME = /^[a-z][a-z0-9]*(?:\.[a-z][a-zA-Z0-9]*)+$/;

/** defineOp types an operation's params and result where it is declared. */
export function defineOp<P, R>(op: Operation<P, R>): Operation<P, R> {
  if (!OP_NAME.test(op.name)) throw new Error(`operation name "${op.name}" is not area.verb`);
  return op;
}

/** noParams is the params schema of an operation that takes none. */
export const noParams: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };
