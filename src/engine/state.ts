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

/** BlockState accumulates what the runs of one block did. */
export class BlockState {
  private s: BlockStatus;
  private lastRunMs = 0;
  /**
   * The last result's fields, and its up and duration_ms (NaN: none), made into the
   * status's fields when it is shown rather than at every run.
   */
  private lastFields: Record<string, number> = {};
  private lastUp = NaN;
  private lastDuration = NaN;
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
    this.lastFields = r.fields;
    this.lastUp = r.ok ? 1 : 0;
    // A result a passive block emitted had no run to time.
    this.lastDuration = r.trigger !== 'signal' ? r.durationMs : NaN;
    s.lastLagMs = r.lagMs;
    s.lastDurationMs = r.durationMs;
    if (r.output !== undefined) s.output = r.output;
  }

  /** restore shows a result kept across a restart as the last state, without counting a run. */
  restore(r: Result): void {
    const s = this.s;
    s.status = r.ok ? 'ok' : 'fail';
    this.lastRunMs = r.startedAt;
    s.lastError = r.message;
    this.lastFields = r.fields;
    this.lastUp = r.ok ? 1 : 0;
    this.lastDuration = NaN;
  }

  missed(n: number): void {
    this.s.missed += n;
  }

  pipeError(message: string): void {
    this.s.pipeErrors++;
    this.s.lastPipeError = message;
  }

  snapshot(): BlockStatus {
    const fields: Record<string, number> = { ...this.lastFields };
    if (!Number.isNaN(this.lastUp)) fields.up = this.lastUp;
    if (!Number.isNaN(this.lastDuration)) fields.duration_ms = this.lastDuration;
    return { ...this.s, lastRun: this.lastRunMs ? new Date(this.lastRunMs).toISOString() : null, fields };
  }
}
