import { Logger } from '../log';
import { checkName, compilePattern, decode, encode, matchEntry, sortEntries } from './common';
import { BucketData, Journal } from './journal';
import { Json, SearchOptions, StateChange, StateEntry, StateStore, Unwatch } from './shared';

interface Watcher {
  key: string | undefined;
  listener: (change: StateChange) => void;
}

/**
 * MemoryState keeps values as JSON text, the same as Redis does, so both backends copy and
 * coerce values alike (a Date becomes a string, NaN becomes null). Changes to persistent
 * buckets go through the journal first.
 */
export class MemoryState implements StateStore {
  private readonly data: BucketData = new Map();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly journal?: Journal;

  constructor(
    private readonly persistent: ReadonlySet<string>,
    dir: string | undefined,
    private readonly log?: Logger,
  ) {
    if (persistent.size > 0 && dir !== undefined) this.journal = Journal.open(dir, this.data, persistent, log);
  }

  async get(bucket: string, key: string, fallback?: Json): Promise<Json | undefined> {
    const text = this.data.get(bucket)?.get(key);
    return text === undefined ? fallback : decode(text);
  }

  async set(bucket: string, key: string, value: Json): Promise<void> {
    this.write(bucket, key, encode(value));
  }

  async getSet(bucket: string, key: string, value: Json): Promise<Json | undefined> {
    const text = encode(value);
    const before = this.data.get(bucket)?.get(key);
    this.write(bucket, key, text);
    return decode(before);
  }

  async setIfAbsent(bucket: string, key: string, value: Json): Promise<boolean> {
    const text = encode(value);
    if (this.data.get(bucket)?.has(key)) return false;
    this.write(bucket, key, text);
    return true;
  }

  async delete(bucket: string, key: string): Promise<boolean> {
    const b = this.data.get(bucket);
    if (!b?.has(key)) return false;
    if (this.persistent.has(bucket)) this.journal?.delete(bucket, key);
    b.delete(key);
    if (b.size === 0) this.data.delete(bucket);
    this.journal?.maybeCompact();
    this.notify(bucket, key, undefined);
    return true;
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return this.data.get(bucket)?.has(key) ?? false;
  }

  async keys(bucket: string): Promise<string[]> {
    return [...(this.data.get(bucket)?.keys() ?? [])].sort();
  }

  async buckets(): Promise<string[]> {
    return [...this.data.keys()].sort();
  }

  async search(pattern: RegExp | string, options: SearchOptions = {}): Promise<StateEntry[]> {
    const re = compilePattern(pattern);
    const out: StateEntry[] = [];
    for (const [bucket, keys] of this.data) {
      if (options.bucket !== undefined && bucket !== options.bucket) continue;
      for (const [key, text] of keys) if (matchEntry(re, bucket, key, text)) out.push({ bucket, key, value: decode(text)! });
    }
    sortEntries(out);
    return options.limit !== undefined ? out.slice(0, options.limit) : out;
  }

  async watch(bucket: string, key: string | undefined, listener: (change: StateChange) => void): Promise<Unwatch> {
    checkName('bucket', bucket);
    let set = this.watchers.get(bucket);
    if (!set) this.watchers.set(bucket, (set = new Set()));
    const w: Watcher = { key, listener };
    set.add(w);
    return () => {
      set!.delete(w);
      if (set!.size === 0 && this.watchers.get(bucket) === set) this.watchers.delete(bucket);
    };
  }

  /** close flushes and closes the journal. */
  close(): void {
    this.journal?.close();
    this.watchers.clear();
  }

  private write(bucket: string, key: string, text: string): void {
    checkName('bucket', bucket);
    checkName('key', key);
    if (this.persistent.has(bucket)) this.journal?.set(bucket, key, text);
    let b = this.data.get(bucket);
    if (!b) this.data.set(bucket, (b = new Map()));
    b.set(key, text);
    this.journal?.maybeCompact();
    this.notify(bucket, key, text);
  }

  /** notify calls the bucket's watchers after the current operation has returned. */
  private notify(bucket: string, key: string, text: string | undefined): void {
    const set = this.watchers.get(bucket);
    if (!set) return;
    for (const w of set) {
      if (w.key !== undefined && w.key !== key) continue;
      // Each watcher gets its own copy, decoded from the text, as it would from Redis.
      const change: StateChange = { bucket, key, value: decode(text) };
      queueMicrotask(() => {
        try {
          w.listener(change);
        } catch (err) {
          this.log?.warn({ bucket, key, err: String(err) }, 'shared state watcher failed');
        }
      });
    }
  }
}
