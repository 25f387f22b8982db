import { BlockConfig, Config } from '../config/types';
import { deepFreeze } from '../config/build';
import type { ReloadReport } from '../ops/node';
import type { ActiveBlock, BlockSet } from './blocks';

/** ReloadTarget is what applyReload changes: the running blocks. */
export interface ReloadTarget {
  blocks: BlockSet;
  /** create makes and schedules a block. */
  create(b: BlockConfig): void;
  /** remove unschedules and closes a block. */
  remove(b: ActiveBlock): Promise<void>;
}

/** Sections whose change needs a restart: the listen address, node.data, the store, the shared backend. */
const RESTART_SECTIONS = ['node', 'storage', 'shared'] as const;

/** blockKey is what makes two configs of a block the same block (the name aside). */
function blockKey(b: BlockConfig): string {
  return JSON.stringify([b.type, b.mode, b.everyMs, b.timeoutMs, b.disabled, b.description, b.options, b.pipe]);
}

/**
 * applyReload brings the running blocks to `next`: blocks added (or enabled) start,
 * removed (or disabled) ones stop, changed ones restart, unchanged ones keep their state
 * and their place in the schedule. Blocks created at run time (heartbeats) are not in the
 * file and stay, unless the file now has a block of the same name. Sections that cannot
 * change while the node runs keep their running values and are named in restartNeeded.
 */
export async function applyReload(old: Config, next: Config, target: ReloadTarget): Promise<{ report: ReloadReport; config: Config }> {
  const report: ReloadReport = { added: [], removed: [], changed: [], unchanged: 0, restartNeeded: [] };
  for (const key of RESTART_SECTIONS) {
    if (JSON.stringify(old[key]) !== JSON.stringify(next[key])) report.restartNeeded.push(key);
  }
  const wanted = new Map(next.blocks.filter((b) => !b.disabled).map((b) => [b.name, b]));
  for (const b of [...target.blocks.values()]) {
    const want = wanted.get(b.config.name);
    if (!want) {
      if (b.runtime) continue;
      report.removed.push(b.config.name);
      await target.remove(b);
    } else if (b.runtime || blockKey(want) !== blockKey(b.config)) {
      report.changed.push(b.config.name);
      await target.remove(b);
      target.create(want);
    } else {
      report.unchanged++;
    }
    wanted.delete(b.config.name);
  }
  for (const b of wanted.values()) {
    report.added.push(b.name);
    target.create(b);
  }
  // What needs a restart keeps its running value, so the config says what actually runs.
  const config: Config = { ...next, node: old.node, storage: old.storage, shared: old.shared };
  return { report, config: deepFreeze(config) };
}
