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

/**
 * OpSource supplies operations that come and go while the node runs (the RPC methods of
 * page scripts, src/pages): the table asks it for names it does not declare itself, so a
 * declared (built-in) operation always wins.
 */
export interface OpSource {
  get(name: string): Operation<any, unknown> | undefined;
  list(): Array<Operation<any, unknown>>;
}

/** Prepared is a checked call: the operation, its params and its context. */
interface Prepared {
  op: Operation<any, unknown>;
  p: unknown;
  ctx: OpContext;
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
  private readonly sources: OpSource[] = [];
  /** Validators of the sources' operations, made on first use (a changed page script brings new objects). */
  private readonly sourced = new WeakMap<object, ValidateFunction>();

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

  /** addSource adds a supplier of operations that come and go; names the table declares are never taken from it. */
  addSource(source: OpSource): void {
    this.sources.push(source);
  }

  /** declares tells whether the table itself declares a name (a source's operation of that name is refused). */
  declares(name: string): boolean {
    return this.entries.has(name);
  }

  get(name: string): Operation<any, unknown> | undefined {
    const own = this.entries.get(name)?.op;
    if (own) return own;
    for (const s of this.sources) {
      const op = s.get(name);
      if (op && !this.entries.has(op.name)) return op;
    }
    return undefined;
  }

  list(): Array<Operation<any, unknown>> {
    const out = [...this.entries.values()].map((e) => e.op);
    const names = new Set(this.entries.keys());
    for (const s of this.sources) {
      for (const op of s.list()) if (!names.has(op.name)) { names.add(op.name); out.push(op); }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** schemaProblem compiles a params schema as invoke will, and words why it cannot be used (undefined when it can). */
  schemaProblem(schema: object): string | undefined {
    try {
      this.sourced.set(schema, this.ajv.compile(schema));
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /**
   * invoke calls an operation (declared, or from a source such as a page script); it rejects
   * with a coded error (never anything uncoded from here). Not an async function: a
   * handler's promise is followed with one `then`.
   */
  invoke(name: string, params: unknown, caller: Caller): Promise<Reply> {
    try {
      const { op, p, ctx } = this.prepare(name, params, caller);
      const out = op.handler(p, ctx);
      const reply = (value: unknown): Reply => ({ status: ctx.status ?? 200, value });
      return Promise.resolve(out).then(reply);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * call is invoke with a callback, for the doors of hot operations (the /hb routes): an
   * operation with a callback form (Operation.start) runs without a promise. `done` is
   * called once, with the error or with the value and the status its handler chose; it may
   * be called before call returns.
   */
  call(name: string, params: unknown, caller: Caller, done: (err: unknown, value?: unknown, status?: number) => void): void {
    let prepared: Prepared;
    try {
      prepared = this.prepare(name, params, caller);
    } catch (err) {
      return done(err);
    }
    const { op, p, ctx } = prepared;
    if (op.start) {
      let called = false;
      try {
        op.start(p, ctx, (err, value) => {
          if (called) return;
          called = true;
          if (err) done(err);
          else done(undefined, value, ctx.status ?? 200);
        });
      } catch (err) {
        if (!called) {
          called = true;
          done(err);
        }
      }
      return;
    }
    let out: unknown;
    try {
      out = op.handler(p, ctx);
    } catch (err) {
      return done(err);
    }
    Promise.resolve(out).then((value) => done(undefined, value, ctx.status ?? 200), (err: unknown) => done(err));
  }

  /** prepare finds an operation and checks the caller and the params; it throws a coded error. */
  private prepare(name: string, params: unknown, caller: Caller): Prepared {
    const e = this.entries.get(name);
    const op = e?.op ?? (typeof name === 'string' ? this.get(name) : undefined);
    if (!op) throw createError('REMON_ERR_OP_UNKNOWN', `no operation is named "${String(name).slice(0, 100)}"`);
    if (op.write && !caller.authorized) {
      throw createError('REMON_ERR_OP_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <node.token>)');
    }
    const p = params === undefined || params === null ? {} : params;
    let validate: ValidateFunction;
    if (e) validate = e.validate ??= this.ajv.compile(op.params);
    else {
      validate = this.sourced.get(op.params) ?? this.ajv.compile(op.params);
      this.sourced.set(op.params, validate);
    }
    if (!validate(p)) throw createError('REMON_ERR_OP_PARAMS', paramProblems(validate));
    return { op, p, ctx: { node: this.node, authorized: caller.authorized, via: caller.via } };
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
