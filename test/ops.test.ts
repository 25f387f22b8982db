import { strict as assert } from 'node:assert';
import { createError, ErrorCode, httpStatusOf, rpcCodeOf } from '../src/errors';
import type { NodeApi } from '../src/ops/node';
import { callbackOp, defineOp, noParams } from '../src/ops/operation';
import { OpTable } from '../src/ops/table';

const node = { config: { node: { name: 'alpha' } } } as unknown as NodeApi;

function table(): OpTable {
  const t = new OpTable(node);
  t.add(
    defineOp<{ name: string; by?: number }, unknown>({
      name: 'counter.incr',
      summary: 'test',
      write: true,
      params: {
        type: 'object', additionalProperties: false, required: ['name'],
        properties: { name: { type: 'string', minLength: 1 }, by: { type: 'integer', minimum: 1 } },
      },
      handler: (p, ctx) => {
        if (p.name === 'new') ctx.status = 201;
        if (p.name === 'busy') throw createError('REMON_ERR_BLOCK_BUSY', 'busy now');
        if (p.name === 'bug') throw new Error('a bug');
        return { node: ctx.node.config.node.name, name: p.name, by: p.by ?? 1, via: ctx.via };
      },
    }),
    defineOp({ name: 'node.info', summary: 'test', write: false, params: { type: 'object' }, handler: () => 'info' }),
    defineOp({ name: 'node.none', summary: 'test', write: false, params: noParams, handler: () => 'none' }),
    callbackOp<{ n: number }, number>({
      name: 'node.double',
      summary: 'test',
      write: false,
      params: { type: 'object', additionalProperties: false, required: ['n'], properties: { n: { type: 'integer' } } },
      start: (p, _ctx, done) => {
        if (p.n < 0) return done(createError('REMON_ERR_OP_PARAMS', 'n: must not be negative'));
        // Twice, as a buggy operation might: the caller hears once.
        setImmediate(() => { done(undefined, 2 * p.n); done(undefined, -1); });
      },
    }),
  );
  return t;
}

describe('operations table', () => {
  const w = { authorized: true, via: 'rpc' as const };

  it('runs a handler with validated params and the node; a handler may choose the status of its success', async () => {
    const t = table();
    assert.deepEqual(await t.invoke('counter.incr', { name: 'x', by: 2 }, w), { status: 200, value: { node: 'alpha', name: 'x', by: 2, via: 'rpc' } });
    assert.equal((await t.invoke('counter.incr', { name: 'new' }, w)).status, 201);
    assert.deepEqual(t.list().map((o) => o.name), ['counter.incr', 'node.double', 'node.info', 'node.none']);
  });

  const refused: Array<[string, string, unknown, boolean, ErrorCode, string]> = [
    ['an unknown operation', 'counter.nope', {}, true, 'REMON_ERR_OP_UNKNOWN', 'no operation is named "counter.nope"'],
    ['a write without the token', 'counter.incr', { name: 'x' }, false, 'REMON_ERR_OP_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <node.token>)'],
    ['a missing param', 'counter.incr', {}, true, 'REMON_ERR_OP_PARAMS', 'params: missing required key "name"'],
    ['an unknown param', 'counter.incr', { name: 'x', bye: 1 }, true, 'REMON_ERR_OP_PARAMS', 'bye: unknown key "bye"; did you mean "by"?'],
    ['a wrong type and a bound, both said', 'counter.incr', { name: 5, by: 0 }, true, 'REMON_ERR_OP_PARAMS', 'name: expected a string; got 5 (a number); quote it to make it text: "5"; by: must be at least 1; got 0'],
    ['params that are not an object', 'counter.incr', [1], true, 'REMON_ERR_OP_PARAMS', 'params: expected a mapping; got a list'],
    ['a param of an operation that takes none', 'node.none', { x: 1 }, true, 'REMON_ERR_OP_PARAMS', 'x: unknown key "x"; nothing is expected here'],
    ['a coded error of the handler', 'counter.incr', { name: 'busy' }, true, 'REMON_ERR_BLOCK_BUSY', 'busy now'],
  ];
  for (const [what, name, params, authorized, code, message] of refused) {
    it(`refuses ${what} with ${code}`, async () => {
      await assert.rejects(table().invoke(name, params, { authorized, via: 'http' }), (err: Error & { code?: string }) => {
        assert.equal(err.code, code);
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  it('reads without the token; an uncoded handler error stays uncoded (a 500 for the door to log)', async () => {
    const t = table();
    assert.deepEqual(await t.invoke('node.info', undefined, { authorized: false, via: 'http' }), { status: 200, value: 'info' });
    await assert.rejects(t.invoke('counter.incr', { name: 'bug' }, w), (err: Error & { code?: string }) => err.code === undefined && err.message === 'a bug');
  });

  it('call answers through a callback, once: an operation in callback form without a promise, the others through theirs; refusals alike', async () => {
    const t = table();
    const call = (name: string, params: unknown, authorized = true): Promise<unknown[]> => new Promise((resolve) => {
      const heard: unknown[][] = [];
      t.call(name, params, { authorized, via: 'http' }, (...args) => {
        heard.push(args);
        setTimeout(() => resolve(heard.length === 1 ? heard[0] : ['called', heard.length, 'times']), 20);
      });
    });
    assert.deepEqual(await call('node.double', { n: 21 }), [undefined, 42, 200]);
    assert.deepEqual(await t.invoke('node.double', { n: 4 }, w), { status: 200, value: 8 });
    assert.deepEqual(await call('counter.incr', { name: 'new' }), [undefined, { node: 'alpha', name: 'new', by: 1, via: 'http' }, 201]);
    const codeOf = (r: unknown[]): string | undefined => (r[0] as { code?: string }).code;
    assert.equal(codeOf(await call('node.double', { n: -1 })), 'REMON_ERR_OP_PARAMS');
    assert.equal(codeOf(await call('node.double', { n: 'x' })), 'REMON_ERR_OP_PARAMS');
    assert.equal(codeOf(await call('counter.incr', { name: 'x' }, false)), 'REMON_ERR_OP_UNAUTHORIZED');
    assert.equal(codeOf(await call('counter.incr', { name: 'busy' })), 'REMON_ERR_BLOCK_BUSY');
    assert.equal(codeOf(await call('node.nope', {})), 'REMON_ERR_OP_UNKNOWN');
  });

  it('refuses a name that is not area.verb and a name declared twice', () => {
    assert.throws(() => defineOp({ name: 'incr', summary: '', write: false, params: {}, handler: () => 0 }), /not area.verb/);
    const t = table();
    assert.throws(() => t.add(defineOp({ name: 'node.info', summary: '', write: false, params: { type: 'object' }, handler: () => 0 })), /declared twice/);
  });

  const statuses: Array<[string, number, number]> = [
    ['REMON_ERR_OP_PARAMS', 400, -32602],
    ['REMON_ERR_OP_UNAUTHORIZED', 401, -32001],
    ['REMON_ERR_WEB_FORBIDDEN', 403, -32003],
    ['REMON_ERR_OP_UNKNOWN', 404, -32601],
    ['REMON_ERR_BLOCK_UNKNOWN', 404, -32004],
    ['REMON_ERR_BLOCK_BUSY', 409, -32009],
    ['REMON_ERR_WEB_MEDIA_TYPE', 415, -32015],
    ['REMON_ERR_HEARTBEAT_JOURNAL', 503, -32050],
    ['REMON_ERR_RRD_FILE', 500, -32603],
  ];
  for (const [code, http, rpc] of statuses) {
    it(`maps ${code} to HTTP ${http} and JSON-RPC ${rpc}`, () => {
      const err = createError(code as ErrorCode, 'x');
      assert.equal(httpStatusOf(err), http);
      assert.equal(rpcCodeOf(err), rpc);
    });
  }

  it('maps anything uncoded to 500 and -32603', () => {
    assert.equal(httpStatusOf(new Error('x')), 500);
    assert.equal(httpStatusOf(undefined), 500);
    assert.equal(rpcCodeOf('boom'), -32603);
  });
});
