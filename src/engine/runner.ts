import { performance } from 'node:perf_hooks';
import { BlockConfig } from '../config/types';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { Shared } from '../shared/shared';
import { formatDuration } from '../util/duration';
import { BlockInstance, RunContext, RunOutput } from './block';
import { Result, Trigger } from './result';

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
  /** Holds the run while it runs, so a stop can abort it (cheaper than a listener per run). */
  controllers?: Set<RunHandle>;
  shared: Shared;
  log: Logger;
  /** Given the block's own promise when the Result does not wait for it (a timeout, a stop): it may outlive the Result. */
  track?(p: Promise<unknown>): void;
  /** The node's wall clock (epoch ms) for the run's start, the time of its samples [Date.now]. */
  now?(): number;
}

const MAX_OUTPUT_CHARS = 64 * 1024;
const ignore = (): undefined => undefined;

/**
 * RunCtx is the context of one run. Its AbortController is made when the block first reads
 * `signal` (an AbortSignal and its listeners cost more than the rest of a short run), or
 * never; onAbort listeners hear of an abort without one.
 */
class RunCtx implements RunContext {
  private ac: AbortController | undefined;
  private listeners: Array<(reason: unknown) => void> | undefined;
  aborted = false;
  reason: unknown = undefined;
  constructor(readonly input: Result | undefined, readonly log: Logger, readonly shared: Shared) {}

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.aborted) {
      listener(this.reason);
      return noop;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners!.splice(i, 1);
    };
  }

  /** abort aborts the signal (if made) and calls the listeners, once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.ac?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (!listeners) return;
    for (const l of listeners) {
      try {
        l(reason);
      } catch {
        // A listener that throws is the block's bug; the others still hear, and the run ends all the same.
      }
    }
  }
}

const noop = (): void => {};

/**
 * runBlock runs a block once and always yields a Result: a thrown error, a rejected
 * promise, a timeout or a stop all become a failed Result with a message. The timeout
 * aborts the run (its signal, its onAbort listeners), and the Result does not wait for a
 * block that ignores it. One promise per run besides the block's own: the timeout and a
 * stop end the run through its handle, with no abort listener or race of promises.
 */
export function runBlock(req: RunRequest): Promise<Result> {
  const { config } = req;
  const ctx = new RunCtx(req.input, req.log, req.shared);
  const startedAt = req.now ? req.now() : Date.now();
  const t0 = performance.now();
  return new Promise<Result>((resolve) => {
    let settled = false;
    /** The block's promise, until it settles. */
    let work: Promise<RunOutput> | undefined;
    const finish = (out: RunOutput | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.controllers?.delete(handle);
      resolve(toResult(req, out ?? {}, startedAt, performance.now() - t0));
    };
    const failed = (err: unknown): void => finish({ ok: false, message: errorMessage(ctx.aborted ? ctx.reason : err) });
    const handle: RunHandle = {
      abort: (reason) => {
        ctx.abort(reason);
        // The Result does not wait for a block still running: the node keeps track of it.
        if (work && !settled) req.track?.(work.catch(ignore));
        failed(reason);
      },
    };
    const timer = setTimeout(
      () => handle.abort(createError('REMON_ERR_BLOCK_TIMEOUT', `timed out after ${formatDuration(config.timeoutMs)}`)),
      config.timeoutMs,
    );
    req.controllers?.add(handle);
    if (req.stop.aborted) return handle.abort(stopReason());
    try {
      work = Promise.resolve(req.instance.run(ctx));
    } catch (err) {
      return failed(err);
    }
    work.then(finish, failed);
  });
}

/** toResult is the Result of a finished run. */
function toResult(req: RunRequest, out: RunOutput, startedAt: number, durationMs: number): Result {
  const ok = out.ok !== false;
  return {
    block: req.config.name,
    type: req.config.type,
    ok,
    fields: out.fields ?? {},
    kinds: out.kinds,
    message: ok ? '' : out.message || 'failed',
    startedAt,
    durationMs: round3(durationMs),
    lagMs: round3(req.lagMs),
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
