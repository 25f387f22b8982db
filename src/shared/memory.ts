import * as path from 'node:path';
import { Logger } from '../log';
import { checkInteger, checkName, newOwner } from './common';
import { MemoryLocks } from './memory-locks';
import { MemoryQueues } from './memory-queues';
import { MemoryState } from './memory-state';
import { Counters, Shared } from './shared';

class MemoryCounters implements Counters {
  private readonly values = new Map<string, number>();
  async get(name: string): Promise<number> {
    return this.values.get(name) ?? 0;
  }
  async set(name: string, value: number): Promise<void> {
    checkName('counter', name);
    checkInteger('a counter value', value);
    this.values.set(name, value);
  }
  async incr(name: string, n = 1): Promise<number> {
    const v = (this.values.get(name) ?? 0) + n;
    if (!Number.isSafeInteger(v)) {
      checkName('counter', name);
      checkInteger('an increment', n);
      checkInteger(`counter "${name}"`, v);
    }
    this.values.set(name, v);
    return v;
  }
  async getIncr(name: string, n = 1): Promise<number> {
    return (await this.incr(name, n)) - n;
  }
  async all(): Promise<Record<string, number>> {
    return Object.fromEntries([...this.values].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
}

/** MemoryOptions: where persistent buckets live, and which buckets are persistent. */
export interface MemoryOptions {
  /** node.data; persistent buckets are kept in `<dataDir>/shared/`. */
  dataDir?: string;
  persistentBuckets?: readonly string[];
  log?: Logger;
}

/**
 * createMemoryShared builds the in-process backend (`shared.kind: memory`). With
 * persistent buckets it loads them from `<dataDir>/shared/` (synchronously, so the node
 * starts with its state) and holds that directory until close.
 */
export function createMemoryShared(options: MemoryOptions = {}): Shared {
  const persistent = new Set(options.persistentBuckets ?? []);
  const dir = options.dataDir !== undefined ? path.join(options.dataDir, 'shared') : undefined;
  const state = new MemoryState(persistent, dir, options.log);
  const owner = newOwner();
  const locks = new MemoryLocks(owner);
  const queues = new MemoryQueues();
  const shared: Shared = {
    kind: 'memory',
    owner,
    state,
    counters: new MemoryCounters(),
    locks,
    queues,
    close: async () => {
      state.close();
      locks.close();
      queues.close();
    },
  };
  return shared;
}
