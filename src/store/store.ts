import { FieldKind } from '../engine/result';

/** Sample is one value of one series at one time (epoch ms). */
export interface Sample {
  series: string;
  t: number;
  value: number;
  kind: FieldKind;
  /**
   * Seconds after which a missing next sample means "unknown" (RRD heartbeat); a hint for
   * stores that create a series on its first sample. Engines set it from the block's interval.
   */
  heartbeat?: number;
  /**
   * The series' id in this process (seriesId(series), series-ids.ts), when the producer keeps
   * it: a store may index its series by it instead of by name. Never anything else.
   */
  id?: number;
}

/** DEFAULT_MAX_POINTS bounds a fetch that names no maxPoints. */
export const DEFAULT_MAX_POINTS = 10_000;

/**
 * FetchOptions selects a time range (epoch ms, inclusive; clipped to [0, MAX_TIME_MS] of
 * range.ts, empty when from > to), a resolution (ms; none: raw samples, or the finest
 * archive) and a bound on the answer.
 */
export interface FetchOptions {
  from: number;
  to: number;
  step?: number;
  /**
   * maxPoints bounds the answer [DEFAULT_MAX_POINTS]: a store answers at most maxPoints
   * points, plus at most one for alignment. When the step asked for (or raw samples) would
   * give more, it answers at a coarser step (the answer's `step` says which, see boundStep
   * in range.ts), averaging the values in each bucket. It decides before allocating
   * anything in proportion to the range, so any from/to costs at most maxPoints points.
   */
  maxPoints?: number;
}

/** SeriesData is a fetched range: `points` are `[t_ms, value | null]`, null where unknown. */
export interface SeriesData {
  name: string;
  step: number;
  points: Array<[number, number | null]>;
}

/** StoreStatus is what `GET /api/store` and `/metrics` show of the store. */
export interface StoreStatus {
  kind: 'rrd' | 'influx' | 'memory';
  /** degraded: samples are held back (influx: spooling to disk) or the last write failed. */
  state: 'ok' | 'degraded';
  /** Where samples go: a directory, or the server's URL. */
  where?: string;
  /** The last failure, until writing works again (since: epoch ms). */
  error?: { code: string; message: string; since: number };
  /** Totals since start by snake_case name (accepted, dropped, ...): remon_store_<name>_total. */
  counters: Record<string, number>;
  /** Current values by snake_case name (series, queued, ...): remon_store_<name>. */
  gauges: Record<string, number>;
}

/**
 * Store is where samples go and where derive, SLA, web and RPC read them from.
 * `write` accepts a batch and must not block the caller; `flush` makes everything
 * written so far durable.
 */
export interface Store {
  write(samples: readonly Sample[]): void;
  fetch(name: string, options: FetchOptions): Promise<SeriesData>;
  list(): string[];
  /** has tells whether list() would name the series, without listing them all (a fetch asks it per request). */
  has(name: string): boolean;
  /**
   * lookup is has() for a store whose series may be written by others too (influx in a
   * cluster: another node's blocks): a name not known here is looked for on the server.
   */
  lookup?(name: string): Promise<boolean>;
  flush(): Promise<void>;
  close(): Promise<void>;
  status(): StoreStatus;
}
