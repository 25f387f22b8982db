import { boundStep, pointsLimit, storeRange } from './range';
import { ById } from './series-ids';
import { FetchOptions, Sample, SeriesData, Store, StoreStatus } from './store';

/** MemoryStoreOptions: how many samples each series keeps. */
export interface MemoryStoreOptions {
  capacity?: number;
}

/**
 * Ring holds the newest samples of a series; it starts small and doubles up to its limit.
 * Times and values are interleaved in one array (t at 2i, v at 2i+1): a write touches one
 * array and, mostly, one cache line.
 */
class Ring {
  d = new Float64Array(16);
  /** Slots (pairs) of d. */
  cap = 8;
  size = 0;
  head = 0; // slot of the next write
  constructor(private readonly limit: number) {}
  push(t: number, v: number): void {
    if (this.size === this.cap && this.size < this.limit) this.grow();
    const i = this.head;
    this.d[2 * i] = t;
    this.d[2 * i + 1] = v;
    this.head = i + 1 === this.cap ? 0 : i + 1;
    if (this.size < this.cap) this.size++;
  }
  private grow(): void {
    const n = Math.min(this.limit, this.cap * 2);
    const d = new Float64Array(2 * n);
    let i = 0;
    this.each((ti, vi) => { d[2 * i] = ti; d[2 * i + 1] = vi; i++; });
    this.d = d;
    this.cap = n;
    this.head = this.size % n;
  }
  /** each visits samples oldest first. */
  each(fn: (t: number, v: number) => void): void {
    const cap = this.cap;
    const start = (this.head - this.size + cap) % cap;
    for (let i = 0; i < this.size; i++) {
      const j = (start + i) % cap;
      fn(this.d[2 * j], this.d[2 * j + 1]);
    }
  }
}

/** bucketAverages averages the samples in [from, to] per step-wide bucket; buckets without samples are null. */
function bucketAverages(ring: Ring, from: number, to: number, step: number): Array<[number, number | null]> {
  const first = Math.floor(from / step) * step;
  const n = Math.floor((to - first) / step) + 1;
  const sum = new Float64Array(n);
  const count = new Uint32Array(n);
  ring.each((t, v) => {
    if (t < from || t > to) return;
    const i = Math.floor((t - first) / step);
    sum[i] += v;
    count[i]++;
  });
  const points: Array<[number, number | null]> = [];
  for (let i = 0; i < n; i++) points.push([first + i * step, count[i] ? sum[i] / count[i] : null]);
  return points;
}

/**
 * MemoryStore keeps the newest samples of each series in a ring buffer. It is the store
 * used by `remon once`, by tests, and until the embedded RRD store is configured.
 */
export class MemoryStore implements Store {
  private readonly rings = new Map<string, Ring>();
  /** The same rings by series id (Sample.id), for samples that carry one. */
  private readonly byId = new ById<Ring>();
  private readonly capacity: number;
  private accepted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.capacity = options.capacity ?? 1024;
  }

  write(samples: readonly Sample[]): void {
    this.accepted += samples.length;
    for (const s of samples) {
      const id = s.id;
      let ring = id === undefined ? undefined : this.byId.get(id);
      if (!ring) {
        ring = this.rings.get(s.series);
        if (!ring) {
          ring = new Ring(this.capacity);
          this.rings.set(s.series, ring);
        }
        if (id !== undefined) this.byId.set(id, ring);
      }
      ring.push(s.t, s.value);
    }
  }

  /**
   * fetch answers raw samples without a step, bucket averages with one; either way at most
   * maxPoints points (plus one): more raw samples than that are bucketed, and a step too fine
   * for the range is made coarser (boundStep), before anything is allocated.
   */
  async fetch(name: string, options: FetchOptions): Promise<SeriesData> {
    const ring = this.rings.get(name);
    const range = storeRange(options);
    const asked = options.step ?? 0;
    if (!ring || !range) return { name, step: asked, points: [] };
    const { from, to } = range;
    const maxPoints = pointsLimit(options);
    if (asked <= 0) {
      // Raw samples, unless there are more than maxPoints: then buckets (below).
      let points: Array<[number, number | null]> | undefined = [];
      ring.each((t, v) => {
        if (t < from || t > to || !points) return;
        if (points.length === maxPoints) points = undefined;
        else points.push([t, v]);
      });
      if (points) return { name, step: asked, points };
    }
    const step = boundStep(from, to, asked, maxPoints);
    return { name, step, points: bucketAverages(ring, from, to, step) };
  }

  list(): string[] {
    return [...this.rings.keys()].sort();
  }

  has(name: string): boolean {
    return this.rings.has(name);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}

  status(): StoreStatus {
    return { kind: 'memory', state: 'ok', counters: { accepted: this.accepted }, gauges: { series: this.rings.size } };
  }
}
