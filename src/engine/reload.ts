import { deepFreeze } from '../config/build';
import { configChanges, restartNeeded } from '../config/diff';
import type { ConfigSection } from '../config/section';
import { BlockConfig, Config } from '../config/types';
import type { ReloadReport } from '../ops/node';
import type { ActiveBlock, BlockSet } from './blocks';

/** ReloadTarget is what applyReload changes: the running blocks. */
export interface ReloadTarget {
  blocks: BlockSet;
  /** The config sections, which say whether a change of theirs applies live. */
  sections?: readonly ConfigSection[];
  /** create makes and schedules a block. */
  create(b: BlockConfig): void;
  /** remove unschedules and closes a block. */
  remove(b: ActiveBlock): Promise<void>;
}

/**
 * applyReload brings the running blocks to `next` (configChanges says what differs):
 * blocks added (or enabled) start, removed (or disabled) ones stop, changed ones restart,
 * unchanged ones keep their state and their place in the schedule. Blocks created at run
 * time (heartbeats) are not in the file and stay, unless the file now has a block of the
 * same name. Sections that cannot change while the node runs (their `reload` is
 * 'restart': node, storage, shared) keep their running values and are named in
 * restartNeeded.
 */
export async function applyReload(old: Config, next: Config, target: ReloadTarget): Promise<{ report: ReloadReport; config: Config }> {
  const changes = configChanges(old, next);
  const restart = restartNeeded(changes, target.sections);
  const report: ReloadReport = { added: [], removed: [], changed: [], unchanged: 0, restartNeeded: restart.filter((k) => k !== 'blocks') };
  const changed = new Set(changes.blocks.changed);
  const wanted = new Map(next.blocks.filter((b) => !b.disabled).map((b) => [b.name, b]));
  for (const b of [...target.blocks.values()]) {
    const name = b.config.name;
    const want = wanted.get(name);
    wanted.delete(name);
    if (!want) {
      if (b.runtime) continue;
      report.removed.push(name);
      await target.remove(b);
    } else if (b.runtime || changed.has(name)) {
      report.changed.push(name);
      await target.remove(b);
      target.create(want);
    } else {
      report.unchanged++;
    }
  }
  for (const b of wanted.values()) {
    report.added.push(b.name);
    target.create(b);
  }
  // What needs a restart keeps its running value, so the config says what actually runs.
  const config: Config = { ...next };
  for (const key of report.restartNeeded) (config as unknown as Record<string, unknown>)[key] = (old as unknown as Record<string, unknown>)[key];
  return { report, config: deepFreeze(config) };
}
