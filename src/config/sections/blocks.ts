import { BlockType, COMMON_BLOCK_KEYS, JsonSchema } from '../../engine/block';
import { errorMessage } from '../../errors';
import { parseDuration } from '../../util/duration';
import { DEFAULT_EVERY_MS, DEFAULT_TIMEOUT_MS } from '../build';
import { suggest } from '../messages';
import { blockName, duration } from '../schema';
import type { CheckContext, ConfigSection, SectionIssue } from '../section';
import { compileSteps, runTargets, stepDefinitions } from '../steps';
import { BlockConfig, BlockMode, Step } from '../types';

/** commonBlockProperties are the keys every block accepts. */
export const commonBlockProperties: Record<(typeof COMMON_BLOCK_KEYS)[number], JsonSchema> = {
  name: { ...blockName, description: 'Unique block name; series are named <name>.<field>.' },
  type: { type: 'string', description: 'The block type.' },
  description: { type: 'string' },
  every: { ...duration, description: 'Run interval (default 1m).' },
  timeout: { ...duration, description: 'A run is aborted after this long (default: the smaller of 10s and every).' },
  mode: {
    enum: ['interval', 'once', 'on-demand'],
    description: 'interval: every `every`; once: at start; on-demand: only when asked (API, run step).',
  },
  disabled: { type: 'boolean', 'x-expected': 'true or false' },
  from: {
    type: 'array', items: { ...blockName }, minItems: 1, uniqueItems: true,
    'x-expected': 'a list of node names, e.g. [alpha, beta, gamma]',
    description: 'Run this block on each of these nodes (node.name), each probing from its own location; a quorum SLA reads their results.',
  },
  pipe: { $ref: '#/definitions/steps', description: 'Steps run on each result, in order.' },
};

/**
 * blocksSchema: the common keys plus, for each block type, an if/then branch holding that
 * type's own options. A block of no known type still has its common keys checked (its
 * other keys are not reported: they may be the options of the type meant).
 */
function blocksSchema(types: readonly BlockType[]): JsonSchema {
  const names = types.map((t) => t.type).sort();
  const { name: _n, type: _t, ...common } = commonBlockProperties;
  return {
    type: 'array',
    'x-expected': 'a list of blocks, each starting with "- name:"',
    items: {
      type: 'object',
      'x-expected': 'a block (a mapping with name, type and the options of its type)',
      required: ['name', 'type'],
      properties: {
        name: commonBlockProperties.name,
        type: { type: 'string', enum: names, 'x-block-type': true, 'x-expected': `a block type (one of: ${names.join(', ')})` },
      },
      allOf: [
        ...types.map((t) => ({
          if: { properties: { type: { const: t.type } }, required: ['type'] },
          then: {
            description: t.description,
            additionalProperties: false,
            required: t.schema.required ?? [],
            properties: { ...commonBlockProperties, ...t.schema.properties },
          },
        })),
        { if: { properties: { type: { enum: names } }, required: ['type'] }, else: { properties: common } },
      ],
    },
  };
}

/**
 * compiled keeps the pipe steps the check compiled, by block, for the build of the same
 * load (which only runs when the check found nothing); entries go with the raw blocks.
 */
const compiled = new WeakMap<object, Step[]>();

/**
 * checkBlocks runs the checks of `blocks:` that need more than the schema: unique names,
 * every and timeout longer than zero, pipe steps (one action each, expressions that parse,
 * run targets that exist and do not loop), and each block type's own check (for blocks
 * that passed the schema). It adds every block's series to the catalog.
 */
function checkBlocks(raw: unknown, ctx: CheckContext): SectionIssue[] {
  const issues: SectionIssue[] = [];
  const blocks = Array.isArray(raw) ? raw : [];
  const firstByName = new Map<string, number>();
  blocks.forEach((b, i) => {
    if (typeof b !== 'object' || b === null) return;
    const block = b as Record<string, unknown>;
    let first = false;
    if (typeof block.name === 'string') {
      const taken = firstByName.get(block.name);
      if (taken === undefined) firstByName.set(block.name, i);
      else issues.push({ path: ['blocks', i, 'name'], message: `duplicate block name "${block.name}"; blocks[${taken}] has it already` });
      first = taken === undefined;
    }
    // Only pipes are kept for the build (a WeakMap entry per block costs at 100,000 blocks).
    if (block.pipe !== undefined) compiled.set(block, compileSteps(block.pipe, ['blocks', i, 'pipe'], issues));
    for (const key of ['every', 'timeout'] as const) {
      const v = block[key];
      if (typeof v === 'string' && parseDuration(v) === 0) issues.push({ path: ['blocks', i, key], message: `must be longer than 0s; got "${v}"` });
    }
    if ((block.mode === 'once' || block.mode === 'on-demand') && block.every !== undefined) {
      issues.push({ path: ['blocks', i, 'every'], message: `"every" has no effect with mode: ${block.mode}; remove it or use mode: interval` });
    }
    const type = typeof block.type === 'string' ? ctx.types.get(block.type) : undefined;
    if (type?.passive && block.mode !== undefined) {
      issues.push({ path: ['blocks', i, 'mode'], message: `a ${type.type} block is signalled, not scheduled; remove mode` });
    }
    // The type's own check and its fields see only options that passed the schema.
    let valid = type !== undefined && ctx.valid(['blocks', i]);
    if (type?.check && valid) {
      const found = type.check(block);
      // A numeric segment is a list index (walk.0.columns), so it locates the item.
      for (const [key, message] of found) {
        issues.push({ path: ['blocks', i, ...key.split('.').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s))], message });
      }
      valid = found.length === 0;
    }
    // A block whose fields cannot be known (not valid, or not declared) is open in the catalog.
    if (first) ctx.catalog.addBlock(block.name as string, { passive: type?.passive, fields: valid ? declaredFields(type!, block, i, issues) : undefined });
  });
  checkRunSteps(blocks, firstByName, issues);
  return issues;
}

/** declaredFields asks a block type which fields a block emits (undefined: not known before it runs). */
function declaredFields(type: BlockType, options: Record<string, unknown>, i: number, issues: SectionIssue[]): readonly string[] | undefined {
  if (!type.fields) return undefined;
  try {
    return type.fields(options);
  } catch (err) {
    issues.push({ path: ['blocks', i, 'type'], message: `block type "${type.type}" failed to list the block's fields: ${errorMessage(err)}` });
    return undefined;
  }
}

/** checkRunSteps: run: targets must exist, and the feed graph must not loop. */
function checkRunSteps(blocks: unknown[], firstByName: ReadonlyMap<string, number>, issues: SectionIssue[]): void {
  const edges = new Map<string, Array<{ block: string; path: Array<string | number> }>>();
  blocks.forEach((b, i) => {
    const block = (b ?? {}) as Record<string, unknown>;
    if (typeof block.name !== 'string') return;
    const targets = runTargets(block.pipe, ['blocks', i, 'pipe']);
    for (const t of targets) {
      if (!firstByName.has(t.block)) issues.push({ path: t.path, message: unknownBlock(t.block, [...firstByName.keys()]) });
      else if (t.block === block.name) issues.push({ path: t.path, message: `a block cannot run itself; name another block` });
    }
    edges.set(block.name, targets.filter((t) => firstByName.has(t.block) && t.block !== block.name));
  });
  for (const cycle of findCycles(edges)) issues.push({ path: cycle.path, message: `run steps form a loop: ${cycle.names.join(' → ')}` });
}

function unknownBlock(name: string, names: string[]): string {
  const near = suggest(name, names);
  return `no block is named "${name}"; ${near ? `did you mean "${near}"?` : `expected one of: ${names.join(', ')}`}`;
}

function findCycles(edges: Map<string, Array<{ block: string; path: Array<string | number> }>>) {
  const out: Array<{ names: string[]; path: Array<string | number> }> = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const e of edges.get(name) ?? []) {
      const s = state.get(e.block);
      if (s === 'active') out.push({ names: [...stack.slice(stack.indexOf(e.block)), e.block], path: e.path });
      else if (s === undefined) visit(e.block);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of edges.keys()) if (!state.has(name)) visit(name);
  return out;
}

/** blocksSection is `blocks:`: the probes, each of a block type passed to the loader. */
export const blocksSection: ConfigSection<'blocks', Array<Record<string, unknown>>> = {
  key: 'blocks',
  reload: 'live',
  definitions: stepDefinitions,
  schema: ({ types }) => blocksSchema(types),
  check: checkBlocks,
  build(raw, ctx) {
    return (raw ?? []).map((b, i): BlockConfig => {
      const events = ctx.types.get(b.type as string)?.events?.(b);
      const everyMs = typeof b.every === 'string' ? parseDuration(b.every)! : DEFAULT_EVERY_MS;
      const timeoutMs = typeof b.timeout === 'string' ? parseDuration(b.timeout)! : Math.min(DEFAULT_TIMEOUT_MS, everyMs);
      return {
        name: b.name as string,
        type: b.type as string,
        description: (b.description as string) ?? '',
        mode: (b.mode as BlockMode) ?? 'interval',
        everyMs,
        timeoutMs,
        disabled: b.disabled === true,
        ...(Array.isArray(b.from) ? { from: b.from as string[] } : {}),
        pipe: compiled.get(b) ?? compileSteps(b.pipe, ['blocks', i, 'pipe'], []),
        options: b,
        ...(events && events.length > 0 ? { events: [...events] } : {}),
      };
    });
  },
};
