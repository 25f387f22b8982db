import { performance } from 'node:perf_hooks';
import { BlockConfig } from '../config/types';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { Shared } from '../shared/shared';
import { formatDuration } from '../util/duration';
import { BlockInstance, RunOutput } from './block';
import { Result, Trigger } from './result';

/** RunRequest is one run of one block. */
export interface RunRequest {
  config: BlockConfig;
  instance: BlockInstance;
  trigger: Trigger;
  lagMs: number;
  input?: Result;
  /** Aborted when the node stops. */
  stop: AbortSignal;
  /** Keeps the run's controller while it runs, so a stop can abort it (cheaper than a listener per run). */
  controllers?: Set<AbortController>;
  shared: Shared;
  log: Logger;
  /** The block's own promise, which may outlive the Result when a block ignores abort. */
  track?(p: Promise<unknown>): void;
  /** The node's wall clock (epoch ms) for the run's start, the time of its samples [Date.now]. */
  now?(): number;
}

const MAX_OUTPUT_CHARS = 64 * 1024;

/**
 * runBlock runs a block once and always yields a Result: a thrown error, a rejected
 * promise, a timeout or a stop all become a failed Result with a message. The timeout
 * aborts the block's signal, and the Result does not wait for a block that ignores it.
 */
export async function runBlock(req: RunRequest): Promise<Result> {
  const { config } = req;
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(createError('REMON_ERR_BLOCK_TIMEOUT', `timed out after ${formatDuration(config.timeoutMs)}`)),
    config.timeoutMs,
  );
  if (req.stop.aborted) ac.abort(stopReason());
  req.controllers?.add(ac);

  const startedAt = req.now ? req.now() : Date.now();
  const t0 = performance.now();
  let out: RunOutput;
  try {
    const work = Promise.resolve().then(() =>
      req.instance.run({ signal: ac.signal, input: req.input, log: req.log, shared: req.shared }),
    );
    req.track?.(work.catch(() => undefined));
    out = await Promise.race([work, aborted(ac.signal)]);
  } catch (err) {
    out = { ok: false, message: errorMessage(ac.signal.aborted ? ac.signal.reason : err) };
  } finally {
    clearTimeout(timer);
    req.controllers?.delete(ac);
  }
  const durationMs = round3(performance.now() - t0);
  const ok = out.ok !== false;
  return {
    block: config.name,
    type: config.type,
    ok,
    fields: out.fields ?? {},
    kinds: out.kinds,
    message: ok ? '' : out.message || 'failed',
    startedAt,
    durationMs,
    lagMs: round3(req.lagMs),
    trigger: req.trigger,
    output: out.output === undefined ? undefined : out.output.slice(0, MAX_OUTPUT_CHARS),
  };
}

/** stopReason is the abort reason of runs cut short by a stopping node. */
export function stopReason(): Error {
  return createError('REMON_ERR_BLOCK_ABORTED', 'aborted: the node is stopping');
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** round3 keeps microseconds: more digits are noise. */
function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
