import { strict as assert } from 'node:assert';
import { BlockConfig } from '../src/config/types';
import { BlockInstance, RunContext, RunOutput } from '../src/engine/block';
import { RunHandle, runBlock, RunRequest } from '../src/engine/runner';
import { silentLogger } from '../src/log';
import { createMemoryShared } from '../src/shared/memory';

/** request is a run of `instance` with a timeout of timeoutMs. */
function request(instance: BlockInstance, timeoutMs: number, o: Partial<RunRequest> = {}): RunRequest {
  const config = { name: 'b', type: 't', description: '', mode: 'interval', everyMs: 1000, timeoutMs, disabled: false, pipe: [], options: {} } as unknown as BlockConfig;
  return { config, instance, trigger: 'schedule', lagMs: 0, stop: new AbortController().signal, shared: createMemoryShared(), log: silentLogger(), ...o };
}

/** hanging is a block whose run ends only when told to (by its abort, through `listen`). */
function hanging(listen: (ctx: RunContext, end: (out: RunOutput) => void) => void): BlockInstance {
  return { run: (ctx) => new Promise((resolve) => listen(ctx, resolve)) };
}

describe('runner: a run and its abort', () => {
  it('tells onAbort listeners of a timeout, with the reason, and the Result says it timed out', async () => {
    let heard: unknown;
    const r = await runBlock(request(hanging((ctx, end) => ctx.onAbort!((reason) => { heard = reason; end({ ok: true }); })), 50));
    assert.equal(r.ok, false);
    assert.equal(r.message, 'timed out after 50ms');
    assert.match((heard as Error).message, /timed out after 50ms/);
  });

  it('aborts the signal of a block that reads it, before or after the abort', async () => {
    let early: AbortSignal | undefined;
    let late: AbortSignal | undefined;
    await runBlock(request(hanging((ctx, end) => {
      early = ctx.signal;
      ctx.onAbort!(() => { late = ctx.signal; end({}); });
    }), 30));
    assert.equal(early!.aborted, true);
    assert.equal(late!.aborted, true);
    assert.match(String((late!.reason as Error).message), /timed out/);
  });

  it('calls a listener added after the abort at once, and not one that was removed', async () => {
    const calls: string[] = [];
    let ctxOf: RunContext | undefined;
    await runBlock(request(hanging((ctx, end) => {
      ctxOf = ctx;
      const off = ctx.onAbort!(() => calls.push('removed'));
      off();
      ctx.onAbort!(() => { calls.push('kept'); end({}); });
    }), 30));
    ctxOf!.onAbort!(() => calls.push('late'));
    assert.deepEqual(calls, ['kept', 'late']);
  });

  it('keeps track of a block that outlives its Result (it ignored the abort), and only of such', async () => {
    const tracked: Array<Promise<unknown>> = [];
    const track = (p: Promise<unknown>): void => { tracked.push(p); };
    let release = (): void => {};
    const stubborn: BlockInstance = { run: () => new Promise((resolve) => { release = () => resolve({}); }) };
    const r = await runBlock(request(stubborn, 30, { track }));
    assert.equal(r.message, 'timed out after 30ms');
    assert.equal(tracked.length, 1, 'the run still going is tracked');
    let settled = false;
    void tracked[0].then(() => { settled = true; });
    release();
    await new Promise((done) => setTimeout(done, 5));
    assert.equal(settled, true, 'the tracked promise ends when the block does');
    await runBlock(request({ run: async () => ({ ok: true }) }, 1000, { track }));
    assert.equal(tracked.length, 1, 'a run that ended by itself is not tracked');
  });

  it('ends a run the node stops through its handle, with the stop as the message', async () => {
    const controllers = new Set<RunHandle>();
    const run = runBlock(request(hanging((ctx, end) => ctx.onAbort!(() => end({}))), 10_000, { controllers }));
    assert.equal(controllers.size, 1);
    for (const c of controllers) c.abort(new Error('aborted: the node is stopping'));
    const r = await run;
    assert.equal(r.message, 'aborted: the node is stopping');
    assert.equal(controllers.size, 0);
  });
});
