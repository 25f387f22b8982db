import type { ActiveBlock } from './blocks';
import type { Result } from './result';
import type { RunRequest } from './runner';
import { Job, JobEntry, RunEnd } from './scheduler';

/** ScheduledRun is the request of a scheduled run: the scheduler's `done` travels with it. */
export interface ScheduledRun extends RunRequest {
  done: RunEnd;
}

/**
 * BlockJob is a block's place in the scheduler: methods on a prototype, not closures per
 * block, and its own scheduler entry (JobEntry), one object per block for a run to fetch.
 */
export class BlockJob extends JobEntry implements Job {
  private readonly b: ActiveBlock;
  private readonly begin: (b: ActiveBlock, lag: number, done: RunEnd, req?: ScheduledRun) => ScheduledRun;
  /** The request of its scheduled runs, made at the first (see Engine.startScheduled). */
  private req?: ScheduledRun;
  readonly everyMs: number;
  readonly id: string;

  constructor(
    b: ActiveBlock,
    private readonly exec: (b: ActiveBlock, lag: number) => Promise<Result>,
    begin: (b: ActiveBlock, lag: number, done: RunEnd, req?: ScheduledRun) => ScheduledRun,
    readonly firstSpreadMs?: number,
    readonly firstAfterMs?: number,
  ) {
    super();
    this.b = b;
    this.begin = begin;
    this.everyMs = b.config.everyMs;
    this.id = b.config.name;
  }

  run(lagMs: number): Promise<Result> {
    return this.exec(this.b, lagMs);
  }

  start(lagMs: number, done: RunEnd): void {
    const req = this.begin(this.b, lagMs, done, this.req);
    // Written once: a pointer stored into an old object costs a write barrier each time.
    if (this.req === undefined) this.req = req;
  }

  busy(): boolean {
    return this.b.running;
  }

  onMissed(count: number): void {
    this.b.state.missed(count);
  }
}
