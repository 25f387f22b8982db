import { BlockType, JsonSchema } from '../engine/block';
import { createError } from '../errors';
import { composeSchema } from './schema';
import type { ConfigSection } from './section';
import { coreSections } from './sections';

const RESERVED = new Set(['file', 'dir']);

/**
 * resolveSections lists the sections of a load: the core ones (node, storage, shared,
 * blocks), then `extra` in its order (a core section given again is the same one), then
 * reordered so that each comes after the sections its `after` names. A key registered by
 * two different sections, a reserved key or a loop of `after` is a programming error:
 * REMON_ERR_CONFIG_SECTION.
 */
export function resolveSections(extra: readonly ConfigSection[] = []): ConfigSection[] {
  const byKey = new Map<string, ConfigSection>();
  for (const s of [...coreSections, ...extra]) {
    const had = byKey.get(s.key);
    if (had === s) continue;
    if (had || RESERVED.has(s.key)) throw createError('REMON_ERR_CONFIG_SECTION', `config section "${s.key}" is registered twice, or its key is reserved`);
    byKey.set(s.key, s);
  }
  // A stable topological order: registration order, except that `after` goes first.
  const out: ConfigSection[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: ConfigSection, chain: string[]): void => {
    const st = state.get(s.key);
    if (st === 'done') return;
    if (st === 'visiting') throw createError('REMON_ERR_CONFIG_SECTION', `config sections run after each other in a loop: ${[...chain, s.key].join(' → ')}`);
    state.set(s.key, 'visiting');
    for (const key of s.after ?? []) {
      const dep = byKey.get(key);
      if (dep) visit(dep, [...chain, s.key]);
    }
    state.set(s.key, 'done');
    out.push(s);
  };
  for (const s of byKey.values()) visit(s, []);
  return out;
}

let cached: { types: readonly BlockType[]; sections: readonly ConfigSection[]; schema: JsonSchema } | undefined;

const sameList = <T>(a: readonly T[], b: readonly T[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * schemaFor reuses the composed schema (and so its compiled validator) for the same types
 * and sections: a node reloading its config does not compile the schema again.
 */
export function schemaFor(sections: readonly ConfigSection[], types: readonly BlockType[]): JsonSchema {
  if (!cached || !sameList(cached.types, types) || !sameList(cached.sections, sections)) {
    cached = { types, sections, schema: composeSchema(sections, types) };
  }
  return cached.schema;
}

/** buildSchema is the published JSON Schema of monitor.yaml for these block types and sections (`remon schema`). */
export function buildSchema(registry: { types: readonly BlockType[]; sections?: readonly ConfigSection[] }): JsonSchema {
  return composeSchema(resolveSections(registry.sections), registry.types);
}
