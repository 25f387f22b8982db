import type { BusMessage } from '../bus';
import type { Step } from '../config/types';
import type { Result } from '../engine/result';
import type { Shared } from '../shared/shared';
import { runSteps } from './steps';

/** PipeHost is what the pipe runner needs from the node. */
export interface PipeHost {
  shared: Shared;
  /** pipeOf is a block's steps in the running config (undefined or empty: none). */
  pipeOf(block: string): readonly Step[] | undefined;
  /** runBlock runs another block with a result as its input (`run:` steps). */
  runBlock(name: string, input: Result): Promise<Result>;
  /** onError records a failed step (or a dropped result) on the block. */
  onError(block: string, what: string, message: string): void;
}

/** MAX_BACKLOG: results of one block waiting for its pipe before new ones are dropped. */
export const MAX_BACKLOG = 100;

interface Lane {
  tail: Promise<void>;
  waiting: number;
}

/**
 * PipeRunner is the pipe steps' bus subscriber. Each block's results go through its steps
 * one after another, in order (a down never overtakes the recovery after it), and apart
 * from the block's schedule and from every other subscriber: a slow step (a lock held for
 * seconds) delays only the pipe of its own block. A block whose pipe falls MAX_BACKLOG
 * results behind has the newest ones dropped, each recorded as a pipe error on the block.
 */
export class PipeRunner {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly host: PipeHost) {}

  /** handle is the bus handler. */
  handle(m: BusMessage): Promise<void> | undefined {
    const r = m.result;
    if (!r) return undefined;
    const steps = this.host.pipeOf(r.block);
    if (!steps || steps.length === 0) return undefined;
    let lane = this.lanes.get(r.block);
    if (!lane) this.lanes.set(r.block, (lane = { tail: Promise.resolve(), waiting: 0 }));
    if (lane.waiting >= MAX_BACKLOG) {
      this.host.onError(r.block, 'pipe', `${lane.waiting} results are waiting for this block's pipe; this one is dropped`);
      return undefined;
    }
    const l = lane;
    l.waiting++;
    const run = l.tail.then(() => runSteps(steps, r, {
      shared: this.host.shared,
      runBlock: (name, input) => this.host.runBlock(name, input),
      onError: (step: Step, message: string) => this.host.onError(r.block, step.kind, message),
    })).finally(() => {
      l.waiting--;
      if (l.waiting === 0 && this.lanes.get(r.block) === l) this.lanes.delete(r.block);
    });
    l.tail = run.catch(() => undefined);
    return run;
  }

  /** backlog is how many results wait for pipes, over all blocks. */
  backlog(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.waiting;
    return n;
  }
}
