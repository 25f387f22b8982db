import type { NodePlugin } from '../engine/plugin';
import type { BlockType, JsonSchema } from '../engine/block';
import type { SeriesCatalog } from './catalog';
import type { Config } from './types';

/**
 * SectionKey is a top-level key of monitor.yaml with a typed value on Config. The core
 * keys (node, storage, shared, blocks) are declared in types.ts; a subsystem adds its own
 * by augmenting Config from its folder:
 *
 *     declare module '../config/types' { interface Config { slas: SlaConfig[] } }
 */
export type SectionKey = Exclude<keyof Config, 'file' | 'dir'>;

/** Path is a value path from the top of monitor.yaml: keys and list indexes. */
export type Path = Array<string | number>;

/**
 * SectionIssue is one problem a check found. The loader gives it the position of the
 * value at `path` (`FILE:LINE:COL: path: message`); with `exprPos`, the position of that
 * character inside the scalar there (an expression's syntax error).
 */
export interface SectionIssue {
  /** From the top of the file, starting with a section key: ['slas', 2, 'test']. */
  path: Path;
  message: string;
  /** For expression errors: the 0-based column inside the expression text. */
  exprPos?: number;
}

/** SchemaContext is what a section's schema may depend on: the block types of this load. */
export interface SchemaContext {
  types: readonly BlockType[];
}

/** CheckContext is what a section's check gets besides its own raw value. */
export interface CheckContext {
  /** The whole document after ${VAR} expansion, for cross-references; may be any shape. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The block types of this load, by type name. */
  readonly types: ReadonlyMap<string, BlockType>;
  /**
   * valid tells whether the value at path passed the schema (no schema problem at or below
   * it). Checks run even when the schema failed, so that every problem is reported at
   * once; a check must be defensive about shapes, or skip what is not valid.
   */
  valid(path: Path): boolean;
  /**
   * catalog holds the series known so far: the blocks section adds every block's; a
   * section that makes series (derive) adds its own for the sections that run after it.
   */
  readonly catalog: SeriesCatalog;
  /** dir is the config file's directory (absolute), for checks of relative paths (a folder that must exist). */
  readonly dir: string;
}

/** BuildContext is what a section's build gets besides its own validated value. */
export interface BuildContext {
  /** The config file as the user named it, and its directory (absolute). */
  readonly file: string;
  readonly dir: string;
  readonly types: ReadonlyMap<string, BlockType>;
  /** The series catalog as the checks left it. */
  readonly catalog: SeriesCatalog;
  /** The sections built so far (the ones this section runs after, among others). */
  readonly config: Readonly<Partial<Config>>;
}

/**
 * ReloadPolicy says how a changed section takes effect: `live` by a reload of the running
 * node (POST /api/reload, SIGHUP), `restart` only by restarting it.
 */
export type ReloadPolicy = 'live' | 'restart';

/**
 * ConfigSection declares one top-level key of monitor.yaml, the way a BlockType declares
 * a block type: the loader composes the sections into one schema, runs every check and
 * builds the frozen Config. The built value must be plain data (the worker thread of
 * loadConfigIsolated posts it to the node).
 */
export interface ConfigSection<K extends SectionKey = SectionKey, Raw = unknown> {
  key: K;
  /** JSON Schema (draft-07) of the value under the key; `x-expected` words its errors. */
  schema: JsonSchema | ((ctx: SchemaContext) => JsonSchema);
  /**
   * Shared definitions the schema refers to as `#/definitions/NAME`. Two sections may give
   * the same name only with the same schema. `duration` is always there.
   */
  definitions?: Record<string, JsonSchema>;
  /** How a change of the section takes effect. */
  reload: ReloadPolicy;
  /**
   * Keys of sections whose checks (and builds) must run before this one's, when they are
   * registered: e.g. `['blocks', 'derive']` to see their series in the catalog.
   */
  after?: readonly string[];
  /**
   * check finds what the schema cannot express (references, duplicates, expressions). It
   * gets the raw value under the key (undefined when absent) even when the schema failed.
   */
  check?(raw: unknown, ctx: CheckContext): SectionIssue[];
  /**
   * build turns the validated value (undefined when the key is absent) into the typed value
   * placed on Config under the key; defaults are filled here. Runs only on a valid file.
   */
  build(raw: Raw | undefined, ctx: BuildContext): Config[K];
}

/** Registry is what a node is made of: its block types, its config sections and its plugins. */
export interface Registry {
  types: readonly BlockType[];
  sections: readonly ConfigSection[];
  /** Subsystems that plug into a running node (src/engine/plugin.ts); none is needed to load a config. */
  plugins?: readonly NodePlugin[];
}
