import { seriesId } from '../store/series-ids';
import type { Sample } from '../store/store';

/** FieldKind tells the store how to treat a field: RRDtool's data-source types. */
export type FieldKind = 'gauge' | 'counter' | 'derive' | 'absolute' | 'dcounter' | 'dderive';

/** Trigger says why a block ran; `signal` is a result a passive block emitted without a run. */
export type Trigger = 'schedule' | 'once' | 'demand' | 'pipe' | 'signal';

/**
 * Result is what every block run yields, success or not: the scheduler never sees an
 * exception. `fields` are the numeric values that become series `<block>.<field>`.
 */
export interface Result {
  block: string;
  type: string;
  ok: boolean;
  fields: Record<string, number>;
  /** Store types of fields that are not gauges (e.g. SNMP counters). */
  kinds?: Record<string, FieldKind>;
  /** Empty when ok; otherwise why the run failed, as a user should read it. */
  message: string;
  /** Wall-clock start, epoch milliseconds. */
  startedAt: number;
  durationMs: number;
  /** How late the run started against its scheduled time (0 for unscheduled runs). */
  lagMs: number;
  trigger: Trigger;
  /** The last raw output (e.g. a command's stdout), capped, for the UI. */
  output?: string;
}

/** SeriesKey is a series' name and its id in this process (series-ids.ts), when it has one. */
export interface SeriesKey {
  readonly name: string;
  readonly id?: number;
}

/**
 * SeriesNames makes and keeps a block's series names (`<block>.<field>`) and their ids: the
 * samples of each result then carry the same strings, which the store's maps have hashed
 * before, and the ids stores index their series by. At most MAX_KEPT names are kept (a
 * name made beyond them has no id: ids are never given back).
 */
export class SeriesNames {
  private static readonly MAX_KEPT = 256;
  /**
   * `up` and `duration_ms`, which every run has: their names and ids in this object itself
   * (made at the first run; '' until then), which a run reads without a key object each.
   */
  upName = '';
  upId = 0;
  durationName = '';
  durationId = 0;
  /** The other fields' names: a map only for blocks with fields (at 100,000 blocks a map each costs). */
  private names?: Map<string, SeriesKey>;
  constructor(readonly block: string) {}

  /** made names the series `up` and `duration_ms` (once). */
  made(): void {
    if (this.upName !== '') return;
    this.upName = this.name('up');
    this.upId = seriesId(this.upName);
    this.durationName = this.name('duration_ms');
    this.durationId = seriesId(this.durationName);
  }

  of(field: string): SeriesKey {
    if (field === 'up' || field === 'duration_ms') {
      this.made();
      return field === 'up' ? { name: this.upName, id: this.upId } : { name: this.durationName, id: this.durationId };
    }
    let key = this.names?.get(field);
    if (key === undefined) {
      this.names ??= new Map();
      const name = this.name(field);
      if (this.names.size < SeriesNames.MAX_KEPT) this.names.set(field, (key = { name, id: seriesId(name) }));
      else key = { name };
    }
    return key;
  }

  private name(field: string): string {
    // Internalized (as an object key is): flat, its hash made, compared by identity.
    return Object.keys({ [`${this.block}.${field}`]: 0 })[0];
  }
}

/**
 * resultSeries lists the samples a result produces, at its start time: `up`,
 * `duration_ms` and its fields. A result a passive block emitted (trigger signal) had no
 * run, so it has no duration_ms. `heartbeat` is the store's "unknown after" hint (seconds);
 * `names`, the block's series names (kept by the engine), if it has them.
 */
export function resultSeries(r: Result, heartbeat?: number, names?: SeriesNames): Sample[] {
  const t = r.startedAt;
  const n = names?.block === r.block ? names : undefined;
  const b = r.block;
  // Fields spelled out (an object spread per sample costs more than the rest of a result's
  // handling), and one array literal of the right length (a push onto a full array copies it).
  n?.made();
  const first: Sample = { series: n ? n.upName : `${b}.up`, id: n?.upId, value: r.ok ? 1 : 0, kind: 'gauge', t, heartbeat };
  let out: Sample[];
  if (r.trigger === 'signal') out = [first];
  else out = [first, { series: n ? n.durationName : `${b}.duration_ms`, id: n?.durationId, value: r.durationMs, kind: 'gauge', t, heartbeat }];
  for (const field in r.fields) {
    const value = r.fields[field];
    if (field === 'up' || field === 'duration_ms' || !Number.isFinite(value)) continue;
    const k = n?.of(field);
    out.push({ series: k ? k.name : `${b}.${field}`, id: k?.id, value, kind: r.kinds?.[field] ?? 'gauge', t, heartbeat });
  }
  return out;
}

/**
 * sampleHeartbeat is the "unknown after" hint (seconds) of a block's samples: two
 * intervals for scheduled blocks; passive blocks report on events, so their values hold
 * for up to two days.
 */
export function sampleHeartbeat(mode: string, everyMs: number): number {
  return mode === 'passive' ? 172_800 : Math.max(1, Math.ceil((2 * everyMs) / 1000));
}
