import * as fs from 'node:fs';
import * as path from 'node:path';
import { createError, errorMessage } from '../errors';
import { BlockType, isBlockType } from './block';

/**
 * loadBlockTypesFrom loads user block types from a directory: each sub-folder holding an
 * index.js (or index.cjs) whose export (`default`, `block`, or the module itself) is a
 * BlockType. Problems are returned, one message each; nothing is thrown.
 */
export function loadBlockTypesFrom(dir: string): { types: BlockType[]; problems: string[] } {
  const types: BlockType[] = [];
  const problems: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return { types, problems: [`cannot read block directory ${dir}: ${errorMessage(err)}`] };
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory()) continue;
    const file = ['index.js', 'index.cjs'].map((f) => path.join(dir, e.name, f)).find((f) => fs.existsSync(f));
    if (!file) continue;
    try {
      // Block types are code the user installed on purpose, like a plugin; the config
      // text itself is never evaluated.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(file);
      const candidate = [mod?.default, mod?.block, mod].find(isBlockType);
      if (!candidate) {
        problems.push(`${file} does not export a block type (an object with type, schema.properties and create)`);
        continue;
      }
      types.push(candidate);
    } catch (err) {
      problems.push(createError('REMON_ERR_BLOCK_TYPE_LOAD', `cannot load ${file}: ${errorMessage(err)}`, err).message);
    }
  }
  return { types, problems };
}

/** mergeBlockTypes combines built-in and user types; a user type may not shadow a built-in. */
export function mergeBlockTypes(builtins: readonly BlockType[], extra: readonly BlockType[]): { types: BlockType[]; problems: string[] } {
  const byName = new Map<string, BlockType>();
  const problems: string[] = [];
  for (const t of builtins) byName.set(t.type, t);
  for (const t of extra) {
    if (byName.has(t.type)) problems.push(`block type "${t.type}" is defined twice`);
    else byName.set(t.type, t);
  }
  return { types: [...byName.values()], problems };
}
