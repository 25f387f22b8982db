import Ajv, { ValidateFunction } from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document } from 'yaml';
import { BlockType, JsonSchema } from '../engine/block';
import { loadBlockTypesFrom, mergeBlockTypes } from '../engine/registry';
import { createError, errorMessage, RemonError } from '../errors';
import { deepFreeze } from './build';
import { SeriesCatalog } from './catalog';
import { resolveSections, schemaFor } from './compose';
import { expandEnv } from './env';
import { formatPath, translate } from './messages';
import { Locator, Position } from './positions';
import { topKeys } from './schema';
import { CheckContext, ConfigSection, Path } from './section';
import { Config, Problem } from './types';
import { parseSimpleYaml } from './fast-yaml';
import { parseYaml } from './yaml';

/**
 * LoadOptions: what a config is validated against (the block types and the sections of
 * the node, see src/registry.ts), the environment for ${VAR}, and the text when it is not
 * to be read from disk.
 */
export interface LoadOptions {
  /** The block types blocks may use (user types from node.block_dirs are added). */
  types: readonly BlockType[];
  /** Top-level sections besides the core ones (node, storage, shared, blocks), which are always there. */
  sections?: readonly ConfigSection[];
  /** More block types, added to `types` (tests and benchmarks register in-process types this way). */
  extraTypes?: readonly BlockType[];
  env?: NodeJS.ProcessEnv;
  /** The file's text, when it is not to be read from disk. */
  text?: string;
}

/** LoadedConfig is a valid config and the block types it was validated against. */
export interface LoadedConfig {
  config: Config;
  types: ReadonlyMap<string, BlockType>;
  /** The sections it was built from, in order (a reload asks them which changes it can apply live). */
  sections: readonly ConfigSection[];
}

/** ConfigError carries every problem found in a config file, sorted by position. */
export class ConfigError extends RemonError {
  readonly problems: Problem[];
  constructor(readonly file: string, problems: Problem[]) {
    const list = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
    super('REMON_ERR_CONFIG_INVALID', list.map((p) => formatProblem(file, p)).join('\n'));
    this.problems = list;
  }
}

/** formatProblem renders `FILE:LINE:COL: path: message`. */
export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.line}:${p.col}: ${p.path}: ${p.message}`;
}

const validators = new WeakMap<object, ValidateFunction>();

/** compileSchema builds (once per schema object) an ajv validator reporting all errors. */
function compileSchema(schema: JsonSchema): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addVocabulary(['x-expected', 'x-block-type']);
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

/**
 * loadConfig reads, expands, validates and freezes monitor.yaml: the sections' composed
 * schema, then every section's check, then (when nothing was found) every section's build.
 * It throws ConfigError with every problem found (positions and messages), or
 * REMON_ERR_CONFIG_READ.
 *
 * A file in the plain subset of YAML people write (parseSimpleYaml) is read without a
 * document: positions are only needed for problems, so the first problem sends the load
 * to the full parser, which finds them all again with their positions. At 100,000 blocks
 * the document and its positions were most of the load time and memory.
 */
export function loadConfig(file: string, options: LoadOptions): LoadedConfig {
  let text = options.text;
  if (text === undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw createError('REMON_ERR_CONFIG_READ', `cannot read ${file}: ${errorMessage(err)}`, err);
    }
  }
  const fast = loadPlain(file, text, options);
  if (fast) return fast;
  const sections = resolveSections(options.sections);
  const dir = path.resolve(path.dirname(file));
  const env = options.env ?? process.env;

  const parsed = parseYaml(text);
  if (parsed.problems.length) throw new ConfigError(file, parsed.problems);
  const { doc } = parsed;
  const at = new Locator(doc, parsed.lines, text);
  const problems: Problem[] = [];
  const add = (pos: Position, p: ReadonlyArray<string | number>, message: string): void => {
    problems.push({ ...pos, path: formatPath(p), message });
  };

  const expansion = expandEnv(doc, env);
  for (const e of expansion.problems) add(at.inScalar(e.node, e.offset, e.text), pathOfNode(doc, e.node), e.message);
  /** fromEnv notes where a bad value came from when ${VAR} produced it. */
  const fromEnv = (p: ReadonlyArray<string | number>, message: string): string => {
    const scalar = at.scalar(p);
    const original = scalar && expansion.original.get(scalar);
    return original === undefined ? message : `${message} (from ${original})`;
  };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // yaml refuses documents whose aliases expand too far (a "billion laughs").
    const message = /alias count/i.test(errorMessage(err)) ? 'anchors and aliases expand to too much data; use fewer aliases' : errorMessage(err);
    throw new ConfigError(file, [...problems, { line: 1, col: 1, path: '(YAML syntax)', message }]);
  }
  if (raw === null || raw === undefined) {
    add({ line: 1, col: 1 }, [], `the file is empty; expected a mapping with ${topKeys(sections)}`);
    throw new ConfigError(file, problems);
  }
  const report: Report = (p, message, how) => {
    const scalar = how.exprPos !== undefined ? at.scalar(p) : undefined;
    add(scalar ? at.inScalar(scalar, how.exprPos!) : at.position(p, how.atKey), p, how.env ? fromEnv(p, message) : message);
  };
  const loaded = checkAndBuild(raw, { file, dir, sections, options }, report);
  if (problems.length || !loaded) throw new ConfigError(file, problems);
  return loaded;
}

/**
 * loadConfigFast is loadConfig's fast path alone: the Config of a file in the plain subset
 * of YAML that has no problem, or undefined (the file cannot be read, is not in the
 * subset, or has a problem: loadConfig then reports it with positions).
 */
export function loadConfigFast(file: string, options: LoadOptions): LoadedConfig | undefined {
  let text = options.text;
  if (text === undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }
  return loadPlain(file, text, options);
}

function loadPlain(file: string, text: string, options: LoadOptions): LoadedConfig | undefined {
  const plain = parseSimpleYaml(text, options.env ?? process.env);
  if (plain === undefined || plain === null) return undefined;
  try {
    return checkAndBuild(plain, { file, dir: path.resolve(path.dirname(file)), sections: resolveSections(options.sections), options }, failFast);
  } catch {
    // Whatever went wrong is found, and reported, by the full path.
    return undefined;
  }
}

/**
 * Report takes a problem at a value path: at its key (atKey), at a character of its
 * scalar (exprPos), noting the ${VAR} it came from (env).
 */
type Report = (path: ReadonlyArray<string | number>, message: string, how: { atKey?: boolean; env?: boolean; exprPos?: number }) => void;

/** FastFail ends a load without positions at its first problem. */
class FastFail extends Error {}

const failFast: Report = () => {
  throw new FastFail();
};

interface LoadContext {
  file: string;
  dir: string;
  sections: readonly ConfigSection[];
  options: LoadOptions;
}

/**
 * checkAndBuild validates the plain value of monitor.yaml (the block types of its
 * block_dirs, the composed schema, every section's check) and, when nothing was reported,
 * builds and freezes the Config; undefined when something was.
 */
function checkAndBuild(raw: unknown, lc: LoadContext, report: Report): LoadedConfig | undefined {
  const { file, dir, sections, options } = lc;
  let reported = 0;
  const add: Report = (p, message, how) => {
    reported++;
    report(p, message, how);
  };
  // User block types must be known before validation: their schemas are part of it.
  const extra: BlockType[] = [...(options.extraTypes ?? [])];
  for (const { dir: d, index } of blockDirs(raw, dir)) {
    const loaded = loadBlockTypesFrom(d);
    extra.push(...loaded.types);
    for (const msg of loaded.problems) add(['node', 'block_dirs', index], msg, {});
  }
  const merged = mergeBlockTypes(options.types, extra);
  for (const msg of merged.problems) add(['node', 'block_dirs'], msg, {});
  const types = new Map(merged.types.map((t) => [t.type, t]));

  const invalid = new Set<string>();
  const validate = compileSchema(schemaFor(sections, merged.types));
  if (!validate(raw)) {
    const seen = new Set<string>();
    const found = (validate.errors ?? []).map(translate).filter((sp) => sp !== undefined);
    // A typo of a required key is reported once, as the unknown key with its suggestion.
    const typos = new Set(found.filter((sp) => sp.suggested).map((sp) => `${formatPath(sp.path.slice(0, -1))}\0${sp.suggested}`));
    for (const sp of found) {
      const id = `${formatPath(sp.path)}\0${sp.message}`;
      if (seen.has(id) || (sp.missing && typos.has(`${formatPath(sp.path)}\0${sp.missing}`))) continue;
      seen.add(id);
      for (let n = 0; n <= sp.path.length; n++) invalid.add(pathKey(sp.path.slice(0, n)));
      add(sp.path, sp.message, { atKey: sp.atKey, env: !sp.atKey });
    }
  }

  const top = (typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const catalog = new SeriesCatalog();
  const ctx: CheckContext = { raw: top, types, catalog, dir, valid: (p: Path) => !invalid.has(pathKey(p)) };
  for (const section of sections) {
    for (const s of section.check?.(top[section.key], ctx) ?? []) add(s.path, s.message, { env: true, exprPos: s.exprPos });
  }
  if (reported > 0) return undefined;

  const config: Partial<Config> = { file, dir };
  for (const section of sections) {
    (config as Record<string, unknown>)[section.key] = section.build(top[section.key], { file, dir, types, catalog, config });
  }
  return { config: deepFreeze(config as Config), types, sections };
}

/** pathKey identifies a value path for the set of paths that failed the schema. */
function pathKey(p: ReadonlyArray<string | number>): string {
  return p.join('\0');
}

function blockDirs(raw: unknown, dir: string): Array<{ dir: string; index: number }> {
  const list = (raw as { node?: { block_dirs?: unknown } })?.node?.block_dirs;
  if (!Array.isArray(list)) return [];
  return list.flatMap((d, index) => (typeof d === 'string' && d !== '' ? [{ dir: path.resolve(dir, d), index }] : []));
}

/** pathOfNode finds the value path of a node of the document. */
function pathOfNode(doc: Document, target: unknown): Array<string | number> {
  let found: Array<string | number> = [];
  const walk = (node: unknown, at: Array<string | number>): boolean => {
    if (node === target) { found = at; return true; }
    const n = node as { items?: unknown[] };
    if (!n || !Array.isArray(n.items)) return false;
    return n.items.some((item, i) => {
      const pair = item as { key?: { value?: unknown }; value?: unknown };
      if (pair && typeof pair === 'object' && 'key' in pair && 'value' in pair) {
        return walk(pair.value, [...at, String(pair.key?.value ?? pair.key)]);
      }
      return walk(item, [...at, i]);
    });
  };
  walk(doc.contents, []);
  return found;
}
