import { Result } from './result';

/** BlockStatus is a block as /api/blocks shows it. */
export interface BlockStatus {
  name: string;
  type: string;
  mode: string;
  status: 'ok' | 'fail' | 'unknown';
  lastRun: string | null;
  lastError: string;
  fields: Record<string, number>;
  runs: number;
  failures: number;
  missed: number;
  lastLagMs: number | null;
  lastDurationMs: number | null;
  pipeErrors: number;
  lastPipeError: string;
  output?: string;
}

/**
 * BlockState accumulates what the runs of one block did. A run only keeps references
 * (its fields, its message): the status object /api/blocks shows is made when asked, so a
 * run allocates nothing here.
 */
export class BlockState {
  private readonly s: BlockStatus;
  private lastRunMs = 0;
  /** The last result's fields, whether it was ok, and its duration (-1: none, a passive block's). */
  private fields: Readonly<Record<string, number>> | undefined;
  private up = 0;
  private durationMs = -1;
  /**
   * The last run's lag and duration (NaN: none yet). Numbers from the start, so a run
   * updates them in place; a field that was null would get a new heap number each run.
   */
  private lastLagMs = NaN;
  private lastDurationMs = NaN;

  constructor(name: string, type: string, mode: string) {
    this.s = {
      name, type, mode, status: 'unknown', lastRun: null, lastError: '', fields: {},
      runs: 0, failures: 0, missed: 0, lastLagMs: null, lastDurationMs: null, pipeErrors: 0, lastPipeError: '',
    };
  }

  record(r: Result): void {
    const s = this.s;
    s.runs++;
    s.status = r.ok ? 'ok' : 'fail';
    if (!r.ok) s.failures++;
    this.lastRunMs = r.startedAt;
    s.lastError = r.message;
    this.fields = r.fields;
    this.up = r.ok ? 1 : 0;
    // A result a passive block emitted had no run to time.
    this.durationMs = r.trigger !== 'signal' ? r.durationMs : -1;
    this.lastLagMs = r.lagMs;
    this.lastDurationMs = r.durationMs;
    if (r.output !== undefined) s.output = r.output;
  }

  /** restore shows a result kept across a restart as the last state, without counting a run. */
  restore(r: Result): void {
    const s = this.s;
    s.status = r.ok ? 'ok' : 'fail';
    this.lastRunMs = r.startedAt;
    s.lastError = r.message;
    this.fields = r.fields;
    this.up = r.ok ? 1 : 0;
    this.durationMs = -1;
  }

  missed(n: number): void {
    this.s.missed += n;
  }

  pipeError(message: string): void {
    this.s.pipeErrors++;
    this.s.lastPipeError = message;
  }

  snapshot(): BlockStatus {
    const fields: Record<string, number> = this.fields ? { ...this.fields, up: this.up } : {};
    if (this.fields && this.durationMs >= 0) fields.duration_ms = this.durationMs;
    return {
      ...this.s,
      lastRun: this.lastRunMs ? new Date(this.lastRunMs).toISOString() : null,
      lastLagMs: Number.isNaN(this.lastLagMs) ? null : this.lastLagMs,
      lastDurationMs: Number.isNaN(this.lastDurationMs) ? null : this.lastDurationMs,
      fields,
    };
  }
}
