import { createError } from '../../errors';
import { boundStep, pointsLimit, storeRange } from '../range';
import { FetchOptions, SeriesData } from '../store';
import { classify, HttpStatusError } from './sender';

/** PromqlReaderOptions: the Prometheus-API base URL and the labels that pick this node's series. */
export interface PromqlReaderOptions {
  url: string;
  token?: string;
  timeoutMs: number;
  /** Label matchers every query carries: node plus the configured labels. */
  match: Readonly<Record<string, string>>;
}

/** Prometheus refuses query_range answers of more than 11,000 points per series. */
const MAX_POINTS_PER_QUERY = 10_000;

/**
 * QUERY_MIN_MS and QUERY_MAX_MS bound the times a query reaches: VictoriaMetrics answers an empty result for a whole
 * query one of whose windows reaches back to within a few minutes of 1970-01-01 (it looks
 * 5 minutes further back, and a negative time matches nothing), and no server goes past
 * int64 nanoseconds (2262-04-11). So a range is clipped to [QUERY_MIN_MS, QUERY_MAX_MS]:
 * samples of the first day of 1970 (at a step: of a bucket starting then) are not read back.
 */
export const QUERY_MIN_MS = 86_400_000;
export const QUERY_MAX_MS = 9_223_372_036_000;

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  data?: unknown;
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/**
 * PromqlReader reads series back through the Prometheus HTTP API (VictoriaMetrics,
 * Prometheus, Mimir, Thanos...), where a line-protocol field is the metric
 * `<measurement>_<field>`:
 *
 * - raw samples: `/api/v1/query` of the range vector `{__name__="m",node="..."}[Nms]` at `to`,
 *   with N = to − from + 1, so exactly the samples in [from, to] come back, once
 *   `sum(count_over_time(...))` of the same range says there are at most maxPoints;
 * - at a step: `/api/v1/query_range` of `avg_over_time(sel[step])` evaluated at the end of
 *   each step-aligned bucket [b, b+step), i.e. at b + step − 1 ms, so each point is the
 *   average of the samples in its bucket, as the memory store computes it;
 * - names: `/api/v1/label/__name__/values` with the node's matchers.
 */
export class PromqlReader {
  private readonly base: string;
  private readonly matchers: string;

  constructor(private readonly options: PromqlReaderOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.matchers = Object.entries(options.match)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(',');
  }

  /** selector is `{__name__="metric",node="alpha",...}`. */
  selector(metric: string): string {
    return `{__name__=${quote(metric)}${this.matchers ? `,${this.matchers}` : ''}}`;
  }

  /**
   * fetch answers raw samples without a step, bucket averages with one; at most maxPoints
   * points (plus one) either way: the server first counts the raw samples in the range, and
   * when there are more, or the step is too fine for the range, buckets of a coarser step
   * (boundStep) come back instead.
   */
  async fetch(name: string, metric: string, options: FetchOptions): Promise<SeriesData> {
    const range = storeRange(options);
    if (!range) return { name, step: options.step ?? 0, points: [] };
    const from = Math.round(range.from);
    const to = Math.round(range.to);
    const maxPoints = pointsLimit(options);
    const asked = options.step !== undefined && options.step > 0 ? Math.max(1, Math.round(options.step)) : 0;
    if (asked === 0 && (await this.count(metric, from, to)) <= maxPoints) {
      const points = await this.raw(metric, from, to);
      // Samples may arrive between the count and the read: still bounded.
      if (points.length <= maxPoints) return { name, step: options.step ?? 0, points };
    }
    const step = Math.ceil(boundStep(from, to, asked || undefined, maxPoints));
    return { name, step, points: await this.stepped(metric, from, to, step) };
  }

  /** count is how many raw samples the series has in [from, to] (summed over matching series). */
  private async count(metric: string, from: number, to: number): Promise<number> {
    [from, to] = [Math.max(from, QUERY_MIN_MS), Math.min(to, QUERY_MAX_MS)];
    if (from > to) return 0;
    const data = (await this.get('/api/v1/query', { query: `sum(count_over_time(${this.selector(metric)}[${to - from + 1}ms]))`, time: seconds(to) })) as
      | { resultType?: string; result?: Array<{ value?: [number, string] }> }
      | undefined;
    if (!data || data.resultType !== 'vector' || !Array.isArray(data.result)) throw this.unexpected('a vector');
    const v = data.result[0]?.value?.[1];
    return v === undefined ? 0 : Number(v);
  }

  private async raw(metric: string, from: number, to: number): Promise<Array<[number, number | null]>> {
    [from, to] = [Math.max(from, QUERY_MIN_MS), Math.min(to, QUERY_MAX_MS)];
    if (from > to) return [];
    const result = await this.matrix('/api/v1/query', { query: `${this.selector(metric)}[${to - from + 1}ms]`, time: seconds(to) });
    const byTime = new Map<number, Array<number | null>>();
    for (const s of result) {
      for (const [t, v] of s.values) {
        const ms = Math.round(t * 1000);
        if (ms < from || ms > to) continue;
        const list = byTime.get(ms);
        if (list) list.push(parseValue(v));
        else byTime.set(ms, [parseValue(v)]);
      }
    }
    return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, vs]) => [t, average(vs)]);
  }

  private async stepped(metric: string, from: number, to: number, step: number): Promise<Array<[number, number | null]>> {
    const first = Math.floor(from / step) * step;
    const n = Math.floor((to - first) / step) + 1;
    const sums = new Float64Array(n);
    const counts = new Uint32Array(n);
    const query = `avg_over_time(${this.selector(metric)}[${step}ms])`;
    // Only buckets inside [QUERY_MIN_MS, QUERY_MAX_MS] are asked for; the others stay null.
    const lo = Math.max(0, Math.ceil((QUERY_MIN_MS - first) / step));
    const hi = Math.min(n - 1, Math.floor((QUERY_MAX_MS - first + 1) / step) - 1);
    for (let i = lo; i <= hi; i += MAX_POINTS_PER_QUERY) {
      const last = Math.min(hi + 1, i + MAX_POINTS_PER_QUERY) - 1;
      const result = await this.matrix('/api/v1/query_range', {
        query,
        start: seconds(first + i * step + step - 1),
        end: seconds(first + last * step + step - 1),
        step: `${step}ms`,
        nocache: '1', // VictoriaMetrics: do not align start/end to the step for its cache
      });
      for (const s of result) {
        for (const [t, v] of s.values) {
          const k = Math.round((Math.round(t * 1000) - step + 1 - first) / step);
          const x = parseValue(v);
          if (k < 0 || k >= n || x === null) continue;
          sums[k] += x;
          counts[k]++;
        }
      }
    }
    const points: Array<[number, number | null]> = [];
    for (let k = 0; k < n; k++) points.push([first + k * step, counts[k] ? sums[k] / counts[k] : null]);
    return points;
  }

  /** names lists the metric names of this node's series seen since `sinceMs`. */
  async names(sinceMs: number): Promise<string[]> {
    const data = await this.get('/api/v1/label/__name__/values', { 'match[]': `{${this.matchers || '__name__=~".+"'}}`, start: seconds(sinceMs) });
    if (!Array.isArray(data) || !data.every((x) => typeof x === 'string')) throw this.unexpected('a list of names');
    return data as string[];
  }

  private async matrix(path: string, params: Record<string, string>): Promise<MatrixSeries[]> {
    const data = (await this.get(path, params)) as { resultType?: string; result?: unknown } | undefined;
    if (!data || data.resultType !== 'matrix' || !Array.isArray(data.result)) throw this.unexpected('a matrix');
    return data.result as MatrixSeries[];
  }

  private async get(path: string, params: Record<string, string>): Promise<unknown> {
    const url = `${this.base}${path}?${new URLSearchParams(params)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let body: PromResponse;
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
      const text = await res.text();
      let parsed: PromResponse | undefined;
      try {
        parsed = JSON.parse(text) as PromResponse;
      } catch {
        parsed = undefined;
      }
      if (!res.ok) throw new HttpStatusError(res.status, parsed?.error ?? text.slice(0, 300));
      if (!parsed) throw createError('REMON_ERR_STORE_QUERY', `${this.base}${path} answered something that is not JSON: ${text.slice(0, 100)}`);
      body = parsed;
    } catch (err) {
      throw classify(err, this.base, 'read');
    }
    if (body.status !== 'success') throw createError('REMON_ERR_STORE_QUERY', `${this.base}${path}: ${body.error ?? 'query failed'}`);
    return body.data;
  }

  private unexpected(what: string): Error {
    return createError('REMON_ERR_STORE_QUERY', `${this.base} answered with something other than ${what}; is read_url a Prometheus-API server (e.g. VictoriaMetrics)?`);
  }
}

/** quote renders a PromQL string literal. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function parseValue(v: string): number | null {
  const x = Number(v);
  return Number.isFinite(x) ? x : null;
}

function average(vs: Array<number | null>): number | null {
  let sum = 0;
  let n = 0;
  for (const v of vs) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n ? sum / n : null;
}
