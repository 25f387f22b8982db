import { Result } from './result';
import { StateRows } from './state-rows';

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
 * its Result and counts, in the node's StateRows (one array for every block, see there):
 * the status object /api/blocks shows is made when asked, so a run allocates nothing here.
 * A restored result (kept across a restart) is the last one without being a run: its
 * fields show no duration_ms, and the last run's lag and duration stay as they were.
 */
export class BlockState {
  /** Its row in rows (-1 once released: then `copy` holds what it had). */
  private row: number;
  private copy?: { last?: Result; lastRun?: Result; runs: number; failures: number };
  private missedTicks = 0;
  private pipeErrors = 0;
  private lastPipeError = '';
  /** The last output a run had. */
  private output?: string;

  constructor(
    private readonly name: string,
    private readonly type: string,
    private readonly mode: string,
    private readonly rows: StateRows = new StateRows(),
  ) {
    this.row = rows.add();
  }

  /** at is its row in the StateRows it was given (a run records there: BlockSet.record, StateRows.record then showOutput). */
  get at(): number {
    return this.row;
  }

  /** showOutput keeps a recorded result's output (the last one a run had). */
  showOutput(r: Result): void {
    if (r.output !== undefined) this.output = r.output;
  }

  /** restore shows a result kept across a restart as the last state, without counting a run. */
  restore(r: Result): void {
    if (this.row >= 0) this.rows.restore(this.row, r);
    else if (this.copy) this.copy.last = r;
  }

  /** release gives its row back (the block was removed): it keeps a copy of what it had. */
  release(): void {
    if (this.row < 0) return;
    const { rows, row } = this;
    this.copy = { last: rows.last(row), lastRun: rows.lastRun(row), runs: rows.runs(row), failures: rows.failures(row) };
    rows.release(row);
    this.row = -1;
  }

  /** lastRunStart is when the last run recorded here started (epoch ms; 0: none). */
  lastRunStart(): number {
    const run = this.copy ? this.copy.lastRun : this.rows.lastRun(this.row);
    return run ? run.startedAt : 0;
  }

  missed(n: number): void {
    this.missedTicks += n;
  }

  pipeError(message: string): void {
    this.pipeErrors++;
    this.lastPipeError = message;
  }

  snapshot(): BlockStatus {
    const { rows, row } = this;
    const c = this.copy;
    const r = c ? c.last : rows.last(row);
    const run = c ? c.lastRun : rows.lastRun(row);
    const fields: Record<string, number> = r ? { ...r.fields, up: r.ok ? 1 : 0 } : {};
    // A result a passive block emitted had no run to time; a restored one was not timed here.
    if (r && r === run && r.trigger !== 'signal') fields.duration_ms = r.durationMs;
    const status: BlockStatus = {
      name: this.name, type: this.type, mode: this.mode, status: r ? (r.ok ? 'ok' : 'fail') : 'unknown',
      lastRun: r && r.startedAt ? new Date(r.startedAt).toISOString() : null, lastError: r ? r.message : '', fields,
      runs: c ? c.runs : rows.runs(row), failures: c ? c.failures : rows.failures(row), missed: this.missedTicks,
      lastLagMs: run ? run.lagMs : null, lastDurationMs: run ? run.durationMs : null, pipeErrors: this.pipeErrors,
      lastPipeError: this.lastPipeError,
    };
    if (this.output !== undefined) status.output = this.output;
    return status;
  }
}
