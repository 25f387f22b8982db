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
 * BlockState accumulates what the runs of one block did. A run only keeps a reference to
 * its Result and counts: the status object /api/blocks shows is made when asked, so a run
 * allocates nothing here, and at 100,000 blocks it writes one object that has not been
 * touched for an interval (each field that holds a number not a small integer would be one
 * more, a heap number of its own).
 */
export class BlockState {
  private runs = 0;
  private failures = 0;
  private missedTicks = 0;
  private pipeErrors = 0;
  private lastPipeError = '';
  /** The last result recorded or restored: the status, the last run, its error and fields. */
  private last?: Result;
  /** last was restored (kept across a restart): its fields show no duration_ms. */
  private restored = false;
  /** The last result of a run recorded here (not restored): its lag and duration. */
  private lastRun?: Result;
  /** The last output a run had. */
  private output?: string;

  constructor(private readonly name: string, private readonly type: string, private readonly mode: string) {}

  record(r: Result): void {
    this.runs++;
    if (!r.ok) this.failures++;
    this.last = r;
    this.lastRun = r;
    this.restored = false;
    if (r.output !== undefined) this.output = r.output;
  }

  /** restore shows a result kept across a restart as the last state, without counting a run. */
  restore(r: Result): void {
    this.last = r;
    this.restored = true;
  }

  missed(n: number): void {
    this.missedTicks += n;
  }

  pipeError(message: string): void {
    this.pipeErrors++;
    this.lastPipeError = message;
  }

  snapshot(): BlockStatus {
    const r = this.last;
    const fields: Record<string, number> = r ? { ...r.fields, up: r.ok ? 1 : 0 } : {};
    // A result a passive block emitted had no run to time.
    if (r && !this.restored && r.trigger !== 'signal') fields.duration_ms = r.durationMs;
    const run = this.lastRun;
    const status: BlockStatus = {
      name: this.name, type: this.type, mode: this.mode, status: r ? (r.ok ? 'ok' : 'fail') : 'unknown',
      lastRun: r && r.startedAt ? new Date(r.startedAt).toISOString() : null, lastError: r ? r.message : '', fields,
      runs: this.runs, failures: this.failures, missed: this.missedTicks, lastLagMs: run ? run.lagMs : null,
      lastDurationMs: run ? run.durationMs : null, pipeErrors: this.pipeErrors, lastPipeError: this.lastPipeError,
    };
    if (this.output !== undefined) status.output = this.output;
    return status;
  }
}
