import type { Clock } from '../clock';
import type { Config } from '../config/types';
import type { Operation } from '../ops/operation';
import type { WebRoute } from '../web/server';
import { Logger } from '../log';
import { Shared } from '../shared/shared';
import { DURATION_PATTERN } from '../util/duration';
import { FieldKind, Result } from './result';

/** JsonSchema is a JSON Schema (draft-07) fragment; `x-expected` words error messages. */
export type JsonSchema = Record<string, unknown>;

/** durationSchema: a duration option ("5s", "1m"); `examples` word its error ("a duration like …"). */
export function durationSchema(examples: string, description?: string): JsonSchema {
  const s: JsonSchema = { type: 'string', pattern: DURATION_PATTERN, 'x-expected': `a duration like ${examples}` };
  if (description !== undefined) s.description = description;
  return s;
}

/** RunContext is what one run of a block gets. */
export interface RunContext {
  /** Aborted when the run times out or the node stops; a block must stop its work then. */
  signal: AbortSignal;
  /**
   * onAbort calls listener once when the run is aborted (at once if it is already), and
   * returns the function that removes it: the same news as `signal`, without the
   * AbortSignal and the event listener that a run would otherwise make. The engine's runs
   * have it; a context made by hand (tests) may not.
   */
  onAbort?(listener: (reason: unknown) => void): () => void;
  /** The result that triggered this run when it was fed by another block's `run:` step. */
  input?: Result;
  log: Logger;
  shared: Shared;
}

/** RunOutput is what a block's run returns; the engine turns it into a Result. */
export interface RunOutput {
  /** Defaults to true. */
  ok?: boolean;
  fields?: Record<string, number>;
  kinds?: Record<string, FieldKind>;
  message?: string;
  output?: string;
}

/** EmitOutput is what a passive block reports without a run (a signal came, a deadline passed). */
export interface EmitOutput extends RunOutput {
  /** When it happened, epoch ms (default: now). */
  at?: number;
}

/** BlockInstance is one configured block, ready to run. */
export interface BlockInstance {
  run(ctx: RunContext): Promise<RunOutput>;
  close?(): Promise<void> | void;
}

/** BlockEnv is what a block type gets when an instance is created. */
export interface BlockEnv {
  name: string;
  /** Directory of monitor.yaml; relative paths in block options resolve against it. */
  configDir: string;
  /** The node's data directory; a block may keep files under `<data>/blocks/<name>/`. */
  dataDir: string;
  log: Logger;
  /**
   * emit reports a result the block produced on its own, without a run: a passive block's
   * state change. The engine handles it like a run's result (block status, store, pipe
   * steps, 'result' listeners), with trigger 'signal'.
   */
  emit(output: EmitOutput): void;
  /**
   * restore sets the block's last state (status, fields, last run) from what the block kept
   * across a restart, without publishing a result: a passive block whose state came back
   * from its journal shows it on /api/blocks at once instead of "unknown".
   */
  restore?(output: EmitOutput): void;
  /**
   * samples publishes values of the block's series `<block>.<field>` at a time, without a
   * result: no `up`, no status, no pipe steps; the store, derive and SLAs get them like any
   * sample (gauges). A block uses it for values of past times it computed on a run (the
   * sql block's new keys per bucket, handed out at each bucket's end); in time order.
   */
  samples?(fields: Record<string, number>, at: number): void;
  /** The node-wide part of the block's type (BlockType.hub), when it has one. */
  hub?: BlockHub;
}

/** HubEnv is what the node-wide part of a block type gets. */
export interface HubEnv {
  /** The config at start; a reload passes the new one to BlockHub.reload. */
  config: Config;
  /** The node's clock: deadlines are armed through it. */
  clock: Clock;
  log: Logger;
  /** hasBlock tells whether a block (of any type) has the name. */
  hasBlock(name: string): boolean;
  /**
   * addBlock adds a block of this type while the node runs (one created over HTTP, or
   * restored from node.data); options must be valid for the type. REMON_ERR_BLOCK_EXISTS
   * when the name is taken.
   */
  addBlock(name: string, options: Record<string, unknown>): void;
}

/**
 * BlockHub is a block type's node-wide part. The engine starts it before the web server
 * listens and blocks are scheduled, and stops it after the web server and the blocks.
 */
export interface BlockHub {
  /**
   * Operations the type adds to the node's table (`area.verb`; those with an HTTP binding
   * get their REST route): what people and scripts can do with the type's blocks.
   */
  readonly ops?: ReadonlyArray<Operation<any, any>>;
  /** Route modules the type adds to the web server (raw hot paths outside the operations). */
  readonly routes?: readonly WebRoute[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /**
   * reload hears of a new config after the engine applied its blocks (created the added and
   * changed ones, closed the removed ones): the hub drops what belonged to removed blocks.
   */
  reload?(config: Config): void;
}

/**
 * BlockType is the plug-in contract. `schema.properties` lists the options the type adds
 * to the common block keys (name, type, every, timeout, mode, disabled, description,
 * pipe); the config loader composes them into one schema, so a block receives options
 * that already passed validation.
 */
export interface BlockType<Options = any> {
  type: string;
  description: string;
  schema: { properties: Record<string, JsonSchema>; required?: string[] };
  /** Passive blocks are signalled (heartbeats) rather than run on a schedule. */
  passive?: boolean;
  /** Extra checks after schema validation, each returned as [option path, message]. */
  check?(options: Options): Array<[string, string]>;
  /**
   * fields lists the fields a block with these (valid) options emits, each the series
   * `<block>.<field>` (besides up and duration_ms), so that `remon check` can check
   * references to them; undefined when they are not known before it runs.
   */
  fields?(options: Options): readonly string[] | undefined;
  /**
   * events lists the fields that are event series: each sample holds a number of events
   * (the sql block's `new`: new keys per bucket), so an SLA test's count() over a duration
   * adds their values instead of counting samples (SeriesOptions.events).
   */
  events?(options: Options): readonly string[];
  create(options: Options, env: BlockEnv): BlockInstance;
  /**
   * hub creates the type's node-wide part, once per node, whether or not a block of the
   * type is configured. A passive type keeps there what its blocks share (one timer, one
   * journal, blocks created at run time). remon's own subsystems reach it by
   * engine.hub(type) (the heartbeat routes and operations do); a dropped-in type cannot add
   * routes or operations yet, so its hub takes its signals in itself (a socket, a timer).
   */
  hub?(env: HubEnv): BlockHub;
}

/** COMMON_BLOCK_KEYS are accepted on every block, whatever its type. */
export const COMMON_BLOCK_KEYS = ['name', 'type', 'description', 'every', 'timeout', 'mode', 'disabled', 'from', 'pipe'] as const;

/** isBlockType tells whether a module export looks like a BlockType. */
export function isBlockType(x: unknown): x is BlockType {
  const b = x as BlockType;
  return typeof b === 'object' && b !== null && typeof b.type === 'string' && typeof b.create === 'function' &&
    typeof b.schema === 'object' && b.schema !== null && typeof b.schema.properties === 'object';
}
