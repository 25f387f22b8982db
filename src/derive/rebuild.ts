import type { BusMessage } from '../bus';
import { sampleHeartbeat } from '../engine/result';
import type { Config } from '../config/types';
import type { NodeApi } from '../ops/node';
import type { SeriesNeed } from '../series';
import type { Store } from '../store/store';

/** The longest range a rebuild reads back (a year and a month). */
const MAX_SPAN_MS = 400 * 86_400_000;
/** Without a known interval, the first range tried for a number of samples. */
const UNKNOWN_INTERVAL_SPAN_MS = 3_600_000;
/** Each try for more samples reads a range this many times longer, this many times at most. */
const WIDEN = 4;
const TRIES = 4;
/** Bound on the points of one read (the store answers coarser beyond). */
const MAX_POINTS = 200_000;

/** HistoryOptions: how a series is read back. */
export interface HistoryOptions {
  /** The series' regular interval (ms), when known: the step to read at and the range a count of samples needs. */
  intervalMs?: number;
  /** Read raw samples (a store that keeps them: memory) rather than rows at the interval. */
  raw: boolean;
}

/**
 * history reads back what a series' windows need as of `now`: the samples of the last
 * need.ms and at least the last need.count, oldest first, unknown points left out. A store
 * that keeps raw samples (memory) gives them as they were; an RRD gives its rows at the
 * series' interval (exact when that is the RRD's step and samples fall on it). Without a
 * known interval, the range widens until enough samples are found or a few tries are spent.
 * A range longer than the store keeps at its finest step comes back coarser (an RRD's
 * next archive): then the range is halved until it is read at the finest step again, so a
 * window never mixes a coarse row into its samples.
 */
export async function history(store: Store, series: string, need: SeriesNeed, now: number, o: HistoryOptions): Promise<Array<[number, number]>> {
  const step = o.raw ? undefined : o.intervalMs;
  const read = (span: number) => store.fetch(series, { from: now - span, to: now, step, maxPoints: MAX_POINTS });
  const perCount = o.intervalMs ? o.intervalMs * (need.count + 1) : UNKNOWN_INTERVAL_SPAN_MS;
  let span = Math.min(MAX_SPAN_MS, Math.max(need.ms, perCount));
  let data = await read(span);
  if (step !== undefined && data.step > step) {
    const finest = (await read(2 * step)).step;
    while (data.step > finest && span > 2 * step) {
      span = Math.max(2 * step, Math.floor(span / 2));
      data = await read(span);
    }
    return known(data.points);
  }
  // With a known interval the range was enough; without, widen it while the answers are
  // as fine as the first (a coarser one would mix rows of another step in).
  let points = known(data.points);
  for (let tries = 1; o.intervalMs === undefined && points.length < need.count && tries < TRIES && span < MAX_SPAN_MS; tries++) {
    span = Math.min(MAX_SPAN_MS, span * WIDEN);
    const wider = await read(span);
    if (wider.step > data.step) break;
    data = wider;
    points = known(data.points);
  }
  return points;
}

/** known keeps the points with a value. */
export function known(points: ReadonlyArray<[number, number | null]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [t, v] of points) if (v !== null) out.push([t, v]);
  return out;
}

/** inBatches runs fn over items, at most `width` at a time. */
export async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/**
 * readBack reads, per series, the longest history any of `needs` (an expression's needs
 * each) asks for as of `now` (see history), eight series at a time; series the store does
 * not have are left out.
 */
export async function readBack(store: Store, needs: Iterable<ReadonlyMap<string, SeriesNeed>>, now: number, intervalOf: (series: string) => number | undefined): Promise<Map<string, Array<[number, number]>>> {
  const want = new Map<string, SeriesNeed>();
  for (const n of needs) {
    for (const [series, need] of n) {
      const had = want.get(series);
      want.set(series, had ? { ms: Math.max(had.ms, need.ms), count: Math.max(had.count, need.count) } : { ...need });
    }
  }
  const raw = store.status().kind === 'memory';
  const read = new Map<string, Array<[number, number]>>();
  await inBatches([...want], 8, async ([series, need]) => {
    if (store.has(series)) read.set(series, await history(store, series, need, now, { raw, intervalMs: intervalOf(series) }));
  });
  return read;
}

/**
 * firstSampleTimes gives, for each series of `read`, the time of the first sample held
 * messages bring of it: a read-back is pushed only up to there, so no sample is pushed twice.
 */
export function firstSampleTimes(held: readonly BusMessage[], read: ReadonlyMap<string, unknown>): Map<string, number> {
  const cutoff = new Map<string, number>();
  for (const m of held) {
    for (const s of m.samples) {
      const c = cutoff.get(s.series);
      if (read.has(s.series) && (c === undefined || s.t < c)) cutoff.set(s.series, s.t);
    }
  }
  return cutoff;
}

/**
 * blockSeriesInfo answers, for a block's series (`<block>.<field>`), what reading it back
 * needs: its regular interval (scheduled blocks) and the heartbeat hint of its samples.
 * Other series (derived ones) are unknown to it.
 */
export function blockSeriesInfo(node: Pick<NodeApi, 'config' | 'blockStatus'>): {
  intervalOf(series: string): number | undefined;
  heartbeatOf(series: string): number | undefined;
  eventsOf(series: string): boolean;
} {
  // The running config's blocks by name, made again when a reload replaces the config.
  let indexed: Config | undefined;
  let byName = new Map<string, Config['blocks'][number]>();
  const configOf = (name: string): Config['blocks'][number] | undefined => {
    const config = node.config;
    if (config !== indexed) {
      indexed = config;
      byName = new Map(config.blocks.map((b) => [b.name, b]));
    }
    return byName.get(name);
  };
  const blockOf = (series: string): string => {
    const dot = series.indexOf('.');
    return dot < 0 ? series : series.slice(0, dot);
  };
  return {
    intervalOf: (series) => {
      const name = blockOf(series);
      const block = configOf(name);
      return block && node.blockStatus(name)?.mode === 'interval' ? block.everyMs : undefined;
    },
    eventsOf: (series) => {
      const name = blockOf(series);
      return configOf(name)?.events?.includes(series.slice(name.length + 1)) === true;
    },
    heartbeatOf: (series) => {
      const name = blockOf(series);
      const status = node.blockStatus(name);
      if (!status) return undefined;
      return sampleHeartbeat(status.mode, configOf(name)?.everyMs ?? 0);
    },
  };
}
