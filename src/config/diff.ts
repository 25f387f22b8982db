import { isDeepStrictEqual } from 'node:util';
import { resolveSections } from './compose';
import type { ConfigSection, SectionKey } from './section';
import { BlockConfig, Config } from './types';

/** BlockChanges sorts the block names of two configs; each list keeps the new config's order (removed: the old one's). */
export interface BlockChanges {
  added: string[];
  removed: string[];
  /** Same name, but a different type, options, every, timeout, mode, pipe or disabled. */
  changed: string[];
  unchanged: string[];
}

/** ConfigChanges is what differs between a running config and a reloaded one. */
export interface ConfigChanges {
  /** Keys of the sections whose value differs, in the new config's key order. */
  sections: SectionKey[];
  blocks: BlockChanges;
}

/** blockChanged tells whether a block must be set up again (its name is the same). */
function blockChanged(a: BlockConfig, b: BlockConfig): boolean {
  return a.type !== b.type || a.everyMs !== b.everyMs || a.timeoutMs !== b.timeoutMs || a.mode !== b.mode ||
    a.disabled !== b.disabled || !isDeepStrictEqual(a.options, b.options) || !isDeepStrictEqual(a.pipe, b.pipe);
}

/**
 * configChanges compares two configs for a reload: which sections changed and, for
 * `blocks`, which block names were added, removed, changed or kept. The order of blocks
 * alone is not a change. Which changed sections need a restart: restartNeeded.
 */
export function configChanges(old: Config, next: Config): ConfigChanges {
  const before = new Map(old.blocks.map((b) => [b.name, b]));
  const names = new Set(next.blocks.map((b) => b.name));
  const blocks: BlockChanges = { added: [], removed: old.blocks.map((b) => b.name).filter((n) => !names.has(n)), changed: [], unchanged: [] };
  for (const b of next.blocks) {
    const was = before.get(b.name);
    if (!was) blocks.added.push(b.name);
    else (blockChanged(was, b) ? blocks.changed : blocks.unchanged).push(b.name);
  }
  const keys = [...new Set([...Object.keys(next), ...Object.keys(old)])].filter((k) => k !== 'file' && k !== 'dir') as SectionKey[];
  const sections = keys.filter((k) => {
    if (k === 'blocks') return blocks.added.length + blocks.removed.length + blocks.changed.length > 0;
    return !isDeepStrictEqual(old[k], next[k]);
  });
  return { sections, blocks };
}

/**
 * restartNeeded lists the changed sections that a live reload cannot apply: those whose
 * section declares `reload: 'restart'` (the core ones are always known), and any key no
 * given section declares.
 */
export function restartNeeded(changes: ConfigChanges, sections: readonly ConfigSection[] = []): SectionKey[] {
  const policy = new Map(resolveSections(sections).map((s) => [s.key, s.reload]));
  return changes.sections.filter((k) => policy.get(k) !== 'live');
}
