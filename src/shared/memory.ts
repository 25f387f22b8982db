import { Counters, Json, QueueOptions, Queues, Shared, StateStore } from './shared';

// Values are copied in and out so a caller never holds a reference into shared state,
// the same as with a remote backend.
const copy = <T extends Json | undefined>(v: T): T => (v === undefined ? v : structuredClone(v));

class MemoryState implements StateStore {
  private readonly data = new Map<string, Map<string, Json>>();
  async get(bucket: string, key: string, fallback?: Json): Promise<Json | undefined> {
    const b = this.data.get(bucket);
    return b && b.has(key) ? copy(b.get(key)!) : fallback;
  }
  async set(bucket: string, key: string, value: Json): Promise<void> {
    let b = this.data.get(bucket);
    if (!b) this.data.set(bucket, (b = new Map()));
    b.set(key, copy(value));
  }
  async delete(bucket: string, key: string): Promise<boolean> {
    return this.data.get(bucket)?.delete(key) ?? false;
  }
  async keys(bucket: string): Promise<string[]> {
    return [...(this.data.get(bucket)?.keys() ?? [])];
  }
  async buckets(): Promise<string[]> {
    return [...this.data.keys()];
  }
}

class MemoryCounters implements Counters {
  private readonly values = new Map<string, number>();
  async get(name: string): Promise<number> {
    return this.values.get(name) ?? 0;
  }
  async set(name: string, value: number): Promise<void> {
    this.values.set(name, value);
  }
  async incr(name: string, n = 1): Promise<number> {
    const v = (this.values.get(name) ?? 0) + n;
    this.values.set(name, v);
    return v;
  }
  async all(): Promise<Record<string, number>> {
    return Object.fromEntries(this.values);
  }
}

class MemoryQueues implements Queues {
  private readonly queues = new Map<string, Json[]>();
  private queue(name: string): Json[] {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = []));
    return q;
  }
  async push(name: string, message: Json, options: QueueOptions = {}): Promise<number> {
    const q = this.queue(name);
    q.push(copy(message));
    if (options.maxLength !== undefined && q.length > options.maxLength) q.splice(0, q.length - options.maxLength);
    return q.length;
  }
  async popOldest(name: string): Promise<Json | undefined> {
    return this.queues.get(name)?.shift();
  }
  async popNewest(name: string): Promise<Json | undefined> {
    return this.queues.get(name)?.pop();
  }
  async peek(name: string, n = Infinity): Promise<Json[]> {
    const q = this.queues.get(name) ?? [];
    return q.slice(Math.max(0, q.length - n)).map(copy);
  }
  async length(name: string): Promise<number> {
    return this.queues.get(name)?.length ?? 0;
  }
}

/** createMemoryShared builds the in-process backend (`shared.kind: memory`). */
export function createMemoryShared(): Shared {
  return {
    kind: 'memory',
    state: new MemoryState(),
    counters: new MemoryCounters(),
    queues: new MemoryQueues(),
    close: async () => {},
  };
}
