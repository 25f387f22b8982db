import { BlockType, durationSchema, JsonSchema } from '../engine/block';
import { createError } from '../errors';
import type { ConfigSection } from './section';

/** NAME_PATTERN: block names, used in series names and URLs. */
export const NAME_PATTERN = '^[A-Za-z0-9_-]+$';
/** KEY_PATTERN: shared state keys, counters, queues, buckets and locks. */
export const KEY_PATTERN = '^[A-Za-z0-9_.:/-]+$';

/** duration is the core duration option; it is also published as `#/definitions/duration`. */
export const duration = durationSchema('500ms, 5s, 1m, 2h, 1d or 1w');

/** sharedKey: a state key, counter, queue, bucket or lock name. */
export const sharedKey = (what: string): JsonSchema => ({
  type: 'string',
  pattern: KEY_PATTERN,
  'x-expected': `a ${what} name of letters, digits and _ . : / -`,
});

/** blockName: a block (or node) name. */
export const blockName: JsonSchema = {
  type: 'string',
  pattern: NAME_PATTERN,
  'x-expected': 'a name of letters, digits, _ and -',
};

/** topKeys words the top-level keys for messages: "node, storage, shared and blocks". */
export function topKeys(sections: readonly ConfigSection[]): string {
  const keys = sections.map((s) => s.key);
  return keys.length < 2 ? keys.join('') : `${keys.slice(0, -1).join(', ')} and ${keys[keys.length - 1]}`;
}

/**
 * composeSchema builds the one JSON Schema of monitor.yaml from its sections (in their
 * order) and the block types: each section's fragment under its key, unknown top-level
 * keys rejected, and the definitions the sections share. The same object is validated with
 * ajv and published for editors (`remon schema`).
 */
export function composeSchema(sections: readonly ConfigSection[], types: readonly BlockType[]): JsonSchema {
  const definitions: Record<string, JsonSchema> = { duration };
  const properties: Record<string, JsonSchema> = {};
  for (const s of sections) {
    for (const [name, def] of Object.entries(s.definitions ?? {})) {
      if (name in definitions && JSON.stringify(definitions[name]) !== JSON.stringify(def)) {
        throw createError('REMON_ERR_CONFIG_SECTION', `config section "${s.key}" defines #/definitions/${name} differently from another section`);
      }
      definitions[name] = def;
    }
    properties[s.key] = typeof s.schema === 'function' ? s.schema({ types }) : s.schema;
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://remon.dev/schema/monitor.schema.json',
    title: 'remon monitor.yaml',
    type: 'object',
    'x-expected': `a mapping with ${topKeys(sections)}`,
    additionalProperties: false,
    definitions,
    properties,
  };
}
