import { RowSink } from './driver';
import { KeySink } from './pgcopy';
import { Recorder, SeenKeys } from './seen';
import { keyText, timestampMs } from './values';

/** CollectOptions: what kind of query (`keys`; undefined: by its columns) and its bounds. */
export interface CollectOptions {
  keys?: boolean;
  maxRows: number;
  /** The seen keys, opened when the result turns out to be a key query (may throw). */
  seen(): SeenKeys;
  now: number;
  /** copying is told that the result comes by COPY (pgcopy.ts), before it is sent. */
  copying?(): void;
}

/**
 * Collector takes a query's result as it arrives (a driver's RowSink): the rows of a key
 * query go to the seen keys' Recorder one by one, so keys are looked up while the
 * database still sends; of a numeric query only the first row is kept. Nothing else of
 * the result is kept, whatever its size; past max_rows rows are only counted.
 */
export class Collector implements RowSink, KeySink {
  rows = 0;
  isKeys = false;
  columnNames: string[] = [];
  first?: unknown[];
  /** Why the result cannot be used (set once; the run fails with it). */
  problem?: string;
  recorder?: Recorder;
  /** Rows of a key query without a key. */
  noKey = 0;
  private ki = -1;
  private ti = -1;

  constructor(private readonly o: CollectOptions) {}

  columns(names: string[]): void {
    this.columnNames = names;
    this.isKeys = this.o.keys ?? (names.includes('key') && names.includes('ts'));
    if (!this.isKeys) return;
    this.ki = names.indexOf('key');
    this.ti = names.indexOf('ts');
    if (this.ki < 0 || this.ti < 0) {
      this.problem = `a key query must return columns key and ts; got ${names.join(', ') || 'no columns'}`;
      return;
    }
    try {
      this.recorder = this.o.seen().begin(this.o.now);
    } catch (err) {
      this.problem = `seen keys: ${(err as Error).message}`;
    }
  }

  row(values: unknown[]): void {
    this.rows++;
    if (this.rows > this.o.maxRows) {
      this.problem ??= `the query returned more than max_rows (${this.o.maxRows}) rows`;
      return;
    }
    if (!this.isKeys) {
      this.first ??= values;
      return;
    }
    const r = this.recorder;
    if (!r) return;
    const k = keyText(values[this.ki]);
    if (k === undefined) { this.noKey++; return; }
    r.add(k, timestampMs(values[this.ti]));
  }

  copying(): void {
    this.o.copying?.();
  }

  /** keyRow takes a key query's row already read (a copied one, pgcopy.ts): key undefined for NULL, ts NaN when unusable. */
  keyRow(key: string | undefined, ts: number): void {
    this.rows++;
    if (this.rows > this.o.maxRows) {
      this.problem ??= `the query returned more than max_rows (${this.o.maxRows}) rows`;
      return;
    }
    const r = this.recorder;
    if (!r) return;
    if (key === undefined) { this.noKey++; return; }
    r.add(key, ts);
  }

  /** abort takes back what a failed run looked up. */
  abort(): void {
    this.recorder?.abort();
  }
}
