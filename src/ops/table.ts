import Ajv, { ValidateFunction } from 'ajv';
import { formatPath, translate } from '../config/messages';
import { createError } from '../errors';
import type { NodeApi } from './node';
import { Operation, OpContext, Via } from './operation';

/** Caller says who calls: through which door, and whether the token was presented. */
export interface Caller {
  authorized: boolean;
  via: Via;
}

/** Reply is an operation's result with the HTTP status its handler chose (default 200). */
export interface Reply {
  status: number;
  value: unknown;
}

interface Entry {
  op: Operation<any, unknown>;
  /** Compiled on the first call: compiling every schema would slow every start. */
  validate?: ValidateFunction;
}

/**
 * OpTable is the node's one table of operations. Subsystems add theirs at composition;
 * every door (REST, JSON-RPC, the CLI, pages) calls `invoke`, which checks the name, the
 * token and the params (every problem worded, with its path), then runs the handler.
 * Errors are coded; src/errors.ts maps the code to an HTTP status or a JSON-RPC code.
 */
export class OpTable {
  private readonly entries = new Map<string, Entry>();
  private readonly ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });

  constructor(private readonly node: NodeApi) {
    this.ajv.addVocabulary(['x-expected']);
  }

  /** add declares operations; a name may be declared once. */
  add(...ops: Array<Operation<any, any>>): void {
    for (const op of ops) {
      if (this.entries.has(op.name)) throw new Error(`operation "${op.name}" is declared twice`);
      this.entries.set(op.name, { op });
    }
  }

  get(name: string): Operation<any, unknown> | undefined {
    return this.entries.get(name)?.op;
  }

  list(): Array<Operation<any, unknown>> {
    return [...this.entries.values()].map((e) => e.op).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * invoke calls an operation; it rejects with a coded error (never anything uncoded from
   * here). Not an async function: a handler's promise is followed with one `then` (the
   * heartbeat signals come through here thousands of times a second).
   */
  invoke(name: string, params: unknown, caller: Caller): Promise<Reply> {
    try {
      const e = this.entries.get(name);
      if (!e) throw createError('REMON_ERR_OP_UNKNOWN', `no operation is named "${String(name).slice(0, 100)}"`);
      if (e.op.write && !caller.authorized) {
        throw createError('REMON_ERR_OP_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <node.token>)');
      }
      const p = params === undefined || params === null ? {} : params;
      e.validate ??= this.ajv.compile(e.op.params);
      if (!e.validate(p)) throw createError('REMON_ERR_OP_PARAMS', paramProblems(e.validate));
      const ctx: OpContext = { node: this.node, authorized: caller.authorized, via: caller.via };
      const out = e.op.handler(p, ctx);
      const reply = (value: unknown): Reply => ({ status: ctx.status ?? 200, value });
      return Promise.resolve(out).then(reply);
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/** paramProblems words ajv's errors as `path: message; path: message`. */
function paramProblems(v: ValidateFunction): string {
  const seen = new Set<string>();
  for (const err of v.errors ?? []) {
    const p = translate(err);
    if (!p) continue;
    const where = p.path.length === 0 ? 'params' : formatPath(p.path);
    seen.add(`${where}: ${p.message}`);
  }
  return [...seen].slice(0, 10).join('; ') || 'invalid params';
}
