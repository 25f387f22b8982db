import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { rpcCommand } from '../src/cli/rpc';
import type { Engine } from '../src/engine/engine';
import { freePort } from './helpers';
import { rpcNode } from './rpc-client';

/** `remon rpc METHOD [JSON]` against a node with a token: what it prints and its exit code. */
describe('cli: remon rpc', function () {
  this.timeout(20_000);
  let e: Engine;
  before(async () => { e = await rpcNode({ token: 'tk' }); });
  after(async () => { await e?.stop(); });

  const run = async (args: string[], env: Record<string, string> = {}, stdin = '') => {
    let out = '';
    let err = '';
    const code = await rpcCommand(args, { out: (t) => (out += t), err: (t) => (err += t) }, { REMON_URL: e.url!, ...env }, Readable.from([Buffer.from(stdin)]));
    return { code, out, err };
  };

  const cases: Array<[string, string[], Record<string, string>, string, number, string | RegExp, string | RegExp]> = [
    ['a read prints the result as indented JSON', ['counter.get', '{"name": "n"}'], {}, '', 0, '{\n  "name": "n",\n  "value": 0\n}\n', ''],
    ['--compact prints it on one line', ['counter.get', '{"name":"n"}', '--compact'], {}, '', 0, '{"name":"n","value":0}\n', ''],
    ['a write with the token', ['counter.incr', '{"name": "n", "by": 3}', '--token', 'tk'], {}, '', 0, /"value": 3/, ''],
    ['the token from REMON_TOKEN, params from standard input', ['counter.incr', '-'], { REMON_TOKEN: 'tk' }, '{"name": "n"}', 0, /"value": 4/, ''],
    ['a write without the token: exit 1 with a hint', ['counter.incr', '{"name": "n"}'], {}, '', 1, '',
      'remon rpc: counter.incr: missing or wrong bearer token (Authorization: Bearer <node.token>) (give the node\'s token with --token or REMON_TOKEN) (-32001 REMON_ERR_OP_UNAUTHORIZED)\n'],
    ['an unknown method: exit 2', ['no.such'], {}, '', 2, '', 'remon rpc: no.such: no operation is named "no.such" (-32601 REMON_ERR_OP_UNKNOWN)\n'],
    ['invalid params: exit 2', ['blocks.get', '{"name": 5}'], {}, '', 2, '', /^remon rpc: blocks\.get: name: .* \(-32602 REMON_ERR_OP_PARAMS\)\n$/],
    ['not found: exit 1', ['blocks.get', '{"name": "zz"}'], {}, '', 1, '', 'remon rpc: blocks.get: no block is named "zz" (-32004 REMON_ERR_BLOCK_UNKNOWN)\n'],
    ['params that are not JSON: usage, exit 2', ['node.info', '{name:'], {}, '', 2, '', /^remon rpc: params must be a JSON object, e\.g\. '\{"name": "web"\}': /],
    ['params that are a list: usage, exit 2', ['node.info', '[1]'], {}, '', 2, '', /^remon rpc: params must be a JSON object, e\.g\. '\{"name": "web"\}'; got \[1\]\n\nUsage: remon rpc/],
    ['no method: usage, exit 2', [], {}, '', 2, '', /^remon rpc: missing the METHOD/],
    ['a bad method name: usage, exit 2', ['Node Info'], {}, '', 2, '', 'remon rpc: "Node Info" is not a method name (area.verb, e.g. node.info)\n\n'],
    ['two JSON arguments: usage, exit 2', ['node.info', '{}', '{}'], {}, '', 2, '', /^remon rpc: unexpected argument "\{\}"; give params as one JSON object, quoted/],
  ];
  for (const [what, args, env, stdin, code, out, err] of cases) {
    it(what, async () => {
      const r = await run(args, env, stdin);
      assert.equal(r.code, code, r.err);
      if (typeof out === 'string') assert.equal(r.out, out);
      else assert.match(r.out, out);
      if (typeof err === 'string') assert.equal(err === '' ? r.err : r.err.slice(0, err.length), err);
      else assert.match(r.err, err);
    });
  }

  it('a node that is not there: exit 1 saying where it looked', async () => {
    const r = await run(['node.info'], { REMON_URL: `http://127.0.0.1:${await freePort()}` });
    assert.equal(r.code, 1);
    assert.match(r.err, /^remon rpc: cannot reach the node at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED \(set --url or REMON_URL\)\n$/);
  });
});
