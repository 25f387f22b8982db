import { Logger } from '../log';
import { Shared } from '../shared/shared';
import { FieldKind, Result } from './result';

/** JsonSchema is a JSON Schema (draft-07) fragment; `x-expected` words error messages. */
export type JsonSchema = Record<string, unknown>;

/** RunContext is what one run of a block gets. */
export interface RunContext {
  /** Aborted when the run times out or the node stops; a block must stop its work then. */
  signal: AbortSignal;
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
  create(options: Options, env: BlockEnv): BlockInstance;
}

/** COMMON_BLOCK_KEYS are accepted on every block, whatever its type. */
export const COMMON_BLOCK_KEYS = ['name', 'type', 'description', 'every', 'timeout', 'mode', 'disabled', 'pipe'] as const;

/** isBlockType tells whether a module export looks like a BlockType. */
export function isBlockType(x: unknown): x is BlockType {
  const b = x as BlockType;
  return typeof b === 'object' && b !== null && typeof b.type === 'string' && typeof b.create === 'function' &&
    typeof b.schema === 'object' && b.schema !== null && typeof b.schema.properties === 'object';
}
