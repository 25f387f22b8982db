import { FetchOptions, Sample, SeriesData, Store, StoreStatus } from './store';

/** MemoryStoreOptions: how many samples each series keeps. */
export interface MemoryStoreOptions {
  capacity?: number;
}

/** Ring holds the newest samples of a series; it starts small and doubles up to its limit. */
class Ring {
  t = new Float64Array(8);
  v = new Float64Array(8);
  size = 0;
  head = 0; // index of the next write
  constructor(private readonly limit: number) {}
  push(t: number, v: number): void {
    if (this.size === this.t.length && this.size < this.limit) this.grow();
    this.t[this.head] = t;
    this.v[this.head] = v;
    this.head = (this.head + 1) % this.t.length;
    if (this.size < this.t.length) this.size++;
  }
  private grow(): void {
    const n = Math.min(this.limit, this.t.length * 2);
    const t = new Float64Array(n);
    const v = new Float64Array(n);
    let i = 0;
    this.each((ti, vi) => { t[i] = ti; v[i++] = vi; });
    this.t = t;
    this.v = v;
    this.head = this.size % n;
  }
  /** each visits samples oldest first. */
  each(fn: (t: number, v: number) => void): void {
    const cap = this.t.length;
    const start = (this.head - this.size + cap) % cap;
    for (let i = 0; i < this.size; i++) {
      const j = (start + i) % cap;
      fn(this.t[j], this.v[j]);
    }
  }
}

/**
 * MemoryStore keeps the newest samples of each series in a ring buffer. It is the store
 * used by `remon once`, by tests, and until the embedded RRD store is configured.
 */
export class MemoryStore implements Store {
  private readonly rings = new Map<string, Ring>();
  private readonly capacity: number;
  private accepted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.capacity = options.capacity ?? 1024;
  }

  write(samples: readonly Sample[]): void {
    this.accepted += samples.length;
    for (const s of samples) {
      let ring = this.rings.get(s.series);
      if (!ring) {
        ring = new Ring(this.capacity);
        this.rings.set(s.series, ring);
      }
      ring.push(s.t, s.value);
    }
  }

  async fetch(name: string, options: FetchOptions): Promise<SeriesData> {
    const ring = this.rings.get(name);
    const step = options.step ?? 0;
    if (!ring) return { name, step, points: [] };
    if (step <= 0) {
      const points: Array<[number, number | null]> = [];
      ring.each((t, v) => {
        if (t >= options.from && t <= options.to) points.push([t, v]);
      });
      return { name, step, points };
    }
    // Average the samples of each step-wide bucket; buckets without samples are null.
    const first = Math.floor(options.from / step) * step;
    const n = Math.floor((options.to - first) / step) + 1;
    const sum = new Float64Array(n);
    const count = new Uint32Array(n);
    ring.each((t, v) => {
      if (t < options.from || t > options.to) return;
      const i = Math.floor((t - first) / step);
      sum[i] += v;
      count[i]++;
    });
    const points: Array<[number, number | null]> = [];
    for (let i = 0; i < n; i++) points.push([first + i * step, count[i] ? sum[i] / count[i] : null]);
    return { name, step, points };
  }

  list(): string[] {
    return [...this.rings.keys()].sort();
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}

  status(): StoreStatus {
    return { kind: 'memory', state: 'ok', counters: { accepted: this.accepted }, gauges: { series: this.rings.size } };
  }
}
