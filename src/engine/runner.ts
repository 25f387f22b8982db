import { performance } from 'node:perf_hooks';
import { BlockConfig } from '../config/types';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { Shared } from '../shared/shared';
import { formatDuration } from '../util/duration';
import { BlockInstance, RunContext, RunOutput } from './block';
import { Result, Trigger } from './result';
import { RunSet, Running } from './runs';

export { RunSet } from './runs';

/** RunHandle is a run in flight, as the node sees it: abort() ends it now with `reason`. */
export interface RunHandle {
  abort(reason: Error): void;
}

/** RunRequest is one run of one block. */
export interface RunRequest {
  config: BlockConfig;
  instance: BlockInstance;
  trigger: Trigger;
  lagMs: number;
  input?: Result;
  /** Aborted when the node stops. */
  stop: AbortSignal;
  /**
   * The node's runs in flight: they time out through it, a stop aborts them through it, and
   * it waits for the blocks' own promises that outlive their Result [a set of its own].
   */
  runs?: RunSet;
  /** Also holds the run while it runs (a caller without a RunSet of its own stops it through it). */
  controllers?: Set<RunHandle>;
  /** Given the block's own promise when the Result does not wait for it (a timeout, a stop): it may outlive the Result. */
  track?(p: Promise<unknown>): void;
  shared: Shared;
  log: Logger;
  /** The node's wall clock (epoch ms) for the run's start, the time of its samples [Date.now]. */
  now?(): number;
  /** Whatever the caller of startRun wants its callback to see again (its block). */
  owner?: unknown;
  /**
   * The config's name, type and timeout, copied into a request that is reused (a scheduled
   * block's): its runs then read no config, at 100,000 blocks an object out of cache.
   */
  name?: string;
  type?: string;
  timeoutMs?: number;
}

/** RunDone hears the Result of a run started by startRun, with its request. */
export type RunDone = (result: Result, req: RunRequest) => void;

const MAX_OUTPUT_CHARS = 64 * 1024;
const ignore = (): undefined => undefined;
const noop = (): void => {};

/** defaultRuns holds the runs of callers that keep no RunSet of their own. */
const defaultRuns = new RunSet();

/**
 * Run is one run in flight and the context its block gets: the abort signal is made only
 * when the block reads it (most runs end without one; onAbort listeners hear of an abort
 * without it), the timeout is a place in the
 * RunSet's list for that timeout instead of a timer per run, and the Result settles once,
 * by whichever comes first: the block's answer, its timeout, or a stop.
 */
export class Run implements RunHandle, RunContext, Running {
  readonly input?: Result;
  readonly log: Logger;
  readonly shared: Shared;
  /** When the run times out (performance.now() ms); its place in the RunSet's list. */
  deadline = 0;
  prev?: Running;
  next?: Running;
  list?: Running['list'];
  /** The block's own promise (undefined until run), and whether it settled. */
  work?: Promise<RunOutput>;
  workDone = false;
  private ac?: AbortController;
  private reason?: Error;
  private listeners?: Array<(reason: unknown) => void>;
  private settled = false;
  private readonly startedAt: number;
  /** When it started, performance.now() ms. */
  readonly t0: number;
  /** The run's lag (a scheduled block's request is reused by its next runs: not read from it). */
  private readonly lagMs: number;

  constructor(private readonly req: RunRequest, readonly set: RunSet, private readonly done: RunDone, lagMs: number, startedAt: number | undefined) {
    this.input = req.input;
    this.lagMs = lagMs;
    this.log = req.log;
    this.shared = req.shared;
    this.startedAt = startedAt ?? (req.now ? req.now() : Date.now());
    this.t0 = performance.now();
  }

  /** signal is aborted when the run times out or the node stops. */
  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.reason) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }

  /** onAbort calls listener once when the run is aborted (at once if it is already); see RunContext.onAbort. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.reason !== undefined) {
      listener(this.reason);
      return noop;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners!.splice(i, 1);
    };
  }

  abort(reason: Error): void {
    if (this.reason === undefined) {
      this.reason = reason;
      this.ac?.abort(reason);
      const listeners = this.listeners;
      this.listeners = undefined;
      for (const l of listeners ?? []) {
        try {
          l(reason);
        } catch {
          // A listener that throws is the block's bug; the others still hear, and the run ends all the same.
        }
      }
    }
    this.fail(reason);
  }

  /** timeout is called by the RunSet when the deadline passed. */
  timeout(): void {
    this.abort(createError('REMON_ERR_BLOCK_TIMEOUT', `timed out after ${formatDuration(this.req.config.timeoutMs)}`));
  }

  /** finish settles the Result with the block's output (once; later answers are ignored). */
  finish(out: RunOutput | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.set.end(this);
    this.req.controllers?.delete(this);
    // The Result does not wait for a block still running: whoever asked keeps track of it.
    if (this.work && !this.workDone) this.req.track?.(this.work.catch(ignore));
    this.done(toResult(this.req, out ?? {}, this.startedAt, performance.now() - this.t0, this.lagMs), this.req);
  }

  fail(err: unknown): void {
    this.finish({ ok: false, message: errorMessage(this.reason ?? err) });
  }

  /**
   * workSettled: the block's own promise settled. True when the Result was settled before
   * it (a timeout, a stop): the RunSet then stops waiting for it, and its answer is dropped.
   */
  workSettled(): boolean {
    this.workDone = true;
    if (!this.settled) return false;
    this.set.settled(this);
    return true;
  }

  /** ended is true once the Result settled. */
  get ended(): boolean {
    return this.settled;
  }
}

/**
 * settle hands the block's answer to its run when its promise settles: two small closures
 * and a reaction, a third of what an async function awaiting it allocates per run.
 */
function settle(run: Run, work: Promise<RunOutput>): void {
  work.then(
    (out) => {
      if (!run.workSettled()) run.finish(out);
    },
    (err: unknown) => {
      if (!run.workSettled()) run.fail(err);
    },
  );
}

/**
 * runBlock runs a block once and always yields a Result: a thrown error, a rejected
 * promise, a timeout or a stop all become a failed Result with a message. The timeout
 * aborts the block's signal, and the Result does not wait for a block that ignores it
 * (the RunSet keeps its promise, so a stopping node still waits for it).
 */
export function runBlock(req: RunRequest): Promise<Result> {
  return new Promise<Result>((resolve) => startRun(req, resolve));
}

/**
 * startRun is runBlock with a callback instead of a promise: `done` (one function for
 * every run, the request telling them apart) hears the Result. The scheduled runs of the
 * node go this way, which spares a promise and its resolvers per run; they give the lag
 * and the start here, and reuse their request.
 */
export function startRun(req: RunRequest, done: RunDone, lagMs = req.lagMs, startedAt?: number): void {
  const set = req.runs ?? defaultRuns;
  const run = new Run(req, set, done, lagMs, startedAt);
  set.start(run, req.timeoutMs ?? req.config.timeoutMs, run.t0);
  req.controllers?.add(run);
  if (req.stop.aborted) return run.abort(stopReason());
  let work: Promise<RunOutput>;
  try {
    work = Promise.resolve(req.instance.run(run));
  } catch (err) {
    return run.fail(err);
  }
  run.work = work;
  settle(run, work);
}

/** toResult is the Result of a finished run. */
function toResult(req: RunRequest, out: RunOutput, startedAt: number, durationMs: number, lagMs: number): Result {
  const ok = out.ok !== false;
  return {
    block: req.name ?? req.config.name,
    type: req.type ?? req.config.type,
    ok,
    fields: out.fields ?? {},
    kinds: out.kinds,
    message: ok ? '' : out.message || 'failed',
    startedAt,
    durationMs: round3(durationMs),
    lagMs: round3(lagMs),
    trigger: req.trigger,
    output: out.output === undefined ? undefined : out.output.slice(0, MAX_OUTPUT_CHARS),
  };
}

/** stopReason is the abort reason of runs cut short by a stopping node. */
export function stopReason(): Error {
  return createError('REMON_ERR_BLOCK_ABORTED', 'aborted: the node is stopping');
}

/** round3 keeps microseconds: more digits are noise. */
function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
