import { Step } from '../config/types';
import { createError, errorMessage, RemonError } from '../errors';
import { formatDuration } from '../util/duration';
import { evaluate, truthy, Value } from '../expr';
import { Result } from '../engine/result';
import { Json, Shared } from '../shared/shared';

/** StepEnv is what pipe steps act on. */
export interface StepEnv {
  shared: Shared;
  /** Runs another block with `input` (a `run:` step) and returns its result. */
  runBlock(name: string, input: Result): Promise<Result>;
  /** Called once per failed step; the pipe carries on with the next step. */
  onError(step: Step, message: string): void;
}

/** resultScope lets conditions read a result: its fields, plus up, ok, duration_ms, message. */
export function resultScope(r: Result): (name: string) => Value | undefined {
  return (name) => {
    switch (name) {
      case 'up':
      case 'ok':
        return r.ok ? 1 : 0;
      case 'duration_ms':
        return r.durationMs;
      case 'lag_ms':
        return r.lagMs;
      case 'message':
        return r.message;
      case 'block':
        return r.block;
      default:
        return r.fields[name];
    }
  };
}

/** resultJson is how a result is stored in state and queues. */
export function resultJson(r: Result): Json {
  return {
    block: r.block,
    type: r.type,
    ok: r.ok,
    fields: r.fields,
    message: r.message,
    time: new Date(r.startedAt).toISOString(),
    duration_ms: r.durationMs,
  };
}

/**
 * runSteps runs a block's pipe on one result, in order. A `lock` step that does not get its
 * lock (or fails) ends the list it is in: the steps after it are what it guards.
 */
export async function runSteps(steps: readonly Step[], result: Result, env: StepEnv): Promise<void> {
  const scope = resultScope(result);
  for (const step of steps) {
    try {
      if ((await runStep(step, result, scope, env)) === STOP) return;
    } catch (err) {
      env.onError(step, errorMessage(err));
      if (step.kind === 'lock') return;
    }
  }
}

const STOP = Symbol('stop');

async function runStep(step: Step, result: Result, scope: ReturnType<typeof resultScope>, env: StepEnv): Promise<typeof STOP | void> {
  switch (step.kind) {
    case 'if':
      await runSteps(truthy(evaluate(step.cond, scope)) ? step.then : step.else, result, env);
      return;
    case 'set':
      await env.shared.state.set(step.bucket, step.key, step.value ? evaluate(step.value, scope) : resultJson(result));
      return;
    case 'increment':
      await env.shared.counters.incr(step.counter, step.by);
      return;
    case 'queue':
      await env.shared.queues.push(step.queue, resultJson(result), { maxLength: step.maxLength, maxAgeMs: step.maxAgeMs });
      return;
    case 'run':
      // The target's own failure is recorded on the target; only not being able to run it
      // (busy, stopping) is this pipe's error.
      await env.runBlock(step.block, result);
      return;
    case 'lock': {
      // Held until its ttl runs out: "at most once per ttl", across nodes on Redis. Someone
      // else holding it is not an error; it only skips the steps it guards.
      const held = step.waitMs > 0
        ? await env.shared.locks.acquire(step.name, { ttlMs: step.ttlMs, waitMs: step.waitMs }).catch((err: RemonError) => {
          if (err.code === 'REMON_ERR_SHARED_LOCK_TIMEOUT') return undefined;
          throw err;
        })
        : await env.shared.locks.tryAcquire(step.name, { ttlMs: step.ttlMs });
      return held ? undefined : STOP;
    }
    case 'with-lock': {
      const handle = await env.shared.locks.acquire(step.name, { ttlMs: step.ttlMs, waitMs: step.waitMs });
      try {
        await runSteps(step.steps, result, env);
      } finally {
        await env.shared.locks.release(handle).catch((err: RemonError) => {
          if (err.code !== 'REMON_ERR_SHARED_LOCK_NOT_HELD') throw err;
          throw createError(err.code, `lock "${step.name}" ran out (ttl ${formatDuration(step.ttlMs)}) before its steps finished; raise ttl`, err);
        });
      }
      return;
    }
  }
}
