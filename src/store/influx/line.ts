/**
 * Line protocol for remon's series, and the names a Prometheus-API server gives them.
 *
 * A sample of series `homepage.total_ms` on node `alpha` with labels `{dc: fra}` is the line
 *
 *     homepage,node=alpha,dc=fra total_ms=12.5 1700000000000
 *
 * (measurement = the part of the name before the first '.', field = the rest, timestamp in
 * ms). One line per sample: InfluxDB merges lines of the same measurement, tags and time
 * into one point, and VictoriaMetrics stores each field as its own series anyway, named
 * `<measurement>_<field>` (`homepage_total_ms`).
 */
import { Sample } from '../store';

/** splitSeries splits `block.field` at the first '.'; a name without one gets field `value`. */
export function splitSeries(name: string): { measurement: string; field: string } {
  const i = name.indexOf('.');
  if (i <= 0 || i === name.length - 1) return { measurement: name, field: 'value' };
  return { measurement: name.slice(0, i), field: name.slice(i + 1) };
}

/** metricName is the name VictoriaMetrics gives a series written as line protocol. */
export function metricName(series: string): string {
  const { measurement, field } = splitSeries(series);
  return `${measurement}_${field}`;
}

/**
 * seriesOfMetric maps a VictoriaMetrics metric name back to a series name. The mapping is
 * ambiguous when block names contain '_' (`a_b` + `c` and `a` + `b_c` both give `a_b_c`), so
 * the longest known block name that prefixes the metric wins; without one, the split is at
 * the first '_'.
 */
export function seriesOfMetric(metric: string, blocks: readonly string[]): string {
  let best = '';
  for (const b of blocks) {
    if (b.length > best.length && metric.length > b.length + 1 && metric.startsWith(b) && metric[b.length] === '_') best = b;
  }
  if (best) return `${best}.${metric.slice(best.length + 1)}`;
  const i = metric.indexOf('_');
  return i > 0 && i < metric.length - 1 ? `${metric.slice(0, i)}.${metric.slice(i + 1)}` : metric;
}

const MEASUREMENT_SPECIAL = /[,\s\\]/;
const KEY_SPECIAL = /[,=\s\\]/;

/** escapeMeasurement escapes commas, spaces and backslashes (line protocol rules). */
export function escapeMeasurement(s: string): string {
  return MEASUREMENT_SPECIAL.test(s) ? s.replace(/[,\s\\]/g, (c) => `\\${c === '\n' ? ' ' : c}`) : s;
}

/** escapeKey escapes a tag key, tag value or field key: commas, '=', spaces, backslashes. */
export function escapeKey(s: string): string {
  return KEY_SPECIAL.test(s) ? s.replace(/[,=\s\\]/g, (c) => `\\${c === '\n' ? ' ' : c}`) : s;
}

/** tagSet renders `,node=alpha,dc=fra`: node first, then the labels sorted by key. */
export function tagSet(node: string, labels: Readonly<Record<string, string>>): string {
  let out = `,node=${escapeKey(node)}`;
  for (const k of Object.keys(labels).sort()) {
    if (labels[k] === '') continue; // line protocol has no empty tag values
    out += `,${escapeKey(k)}=${escapeKey(labels[k])}`;
  }
  return out;
}

/**
 * LineEncoder turns samples into lines, caching the measurement+tags prefix and the field
 * key of each series (there are few series and many samples).
 */
export class LineEncoder {
  private readonly cache = new Map<string, { head: string; field: string }>();
  constructor(private readonly tags: string) {}

  /** encode renders one sample, or undefined when its value is not a finite number. */
  encode(s: Sample): string | undefined {
    if (!Number.isFinite(s.value)) return undefined;
    let c = this.cache.get(s.series);
    if (!c) {
      const { measurement, field } = splitSeries(s.series);
      c = { head: escapeMeasurement(measurement) + this.tags + ' ', field: escapeKey(field) + '=' };
      if (this.cache.size < 100_000) this.cache.set(s.series, c);
    }
    return `${c.head}${c.field}${s.value} ${Math.round(s.t)}`;
  }
}
