import { strict as assert } from 'node:assert';
import { typescriptLoader } from '../src/pages/script';
import type { Caller } from '../src/ops/table';
import { PagesNode, startPagesNode } from './pages-harness';

const anon: Caller = { authorized: false, via: 'rpc' };
const admin: Caller = { authorized: true, via: 'rpc' };

const WALL = `module.exports = {
  async GET(req, page) { return { posts: await page.rpc('wall.list') }; },
  rpc: {
    'wall.post': {
      summary: 'Add a message to the wall.',
      params: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', maxLength: 20 } } },
      write: true,
      handler: async (p, page) => { const n = await page.shared.counters.incr('wall_posts'); await page.shared.state.set('wall', String(n), p.text); return { id: n, by: page.name }; },
    },
    'wall.list': {
      summary: 'The wall.',
      write: false,
      handler: async (p, page) => { const out = []; for (const k of (await page.shared.state.keys('wall')).sort()) out.push(await page.shared.state.get('wall', k)); return out; },
    },
    'wall.reset': { write: false, handler: async (p, page) => { await page.rpc('blocks.run', { name: 'alpha' }); await page.shared.counters.set('wall_posts', 0); } },
  },
};`;

/** pageError is the error a JSON page answers. */
async function pageError(url: string): Promise<{ status: number; error: string; code: string }> {
  const res = await fetch(url);
  const body = await res.json() as { error: string; code: string };
  return { status: res.status, error: body.error, code: body.code };
}

describe('pages: page RPC methods join the operations table while their file exists', function () {
  this.timeout(20_000);
  let n: PagesNode | undefined;
  afterEach(async () => {
    await n?.stop();
    n = undefined;
  });

  it('a method is callable as soon as its file is there, follows its changes, and is gone with it', async () => {
    n = await startPagesNode({ token: 's3cret' });
    const ops = n.engine.ops;
    await assert.rejects(ops.invoke('wall.post', { text: 'hi' }, admin), { code: 'REMON_ERR_OP_UNKNOWN' });
    n.write('wall.js', WALL);
    assert.deepEqual(ops.list().filter((o) => o.name.startsWith('wall.')).map((o) => [o.name, o.write, o.summary]), [
      ['wall.list', false, 'The wall.'],
      ['wall.post', true, 'Add a message to the wall.'],
      ['wall.reset', false, 'wall.reset (page method)'],
    ]);
    await assert.rejects(ops.invoke('wall.post', { text: 'hi' }, anon), { code: 'REMON_ERR_OP_UNAUTHORIZED' });
    await assert.rejects(ops.invoke('wall.post', { text: 'far too long for the wall' }, admin), { code: 'REMON_ERR_OP_PARAMS', message: 'text: must be at most 20 characters long' });
    assert.deepEqual((await ops.invoke('wall.post', { text: 'hi' }, admin)).value, { id: 1, by: 'wall' });
    assert.deepEqual((await ops.invoke('wall.list', {}, anon)).value, ['hi']);
    assert.deepEqual(await (await fetch(`${n.url}/wall`)).json(), { posts: ['hi'] }, 'the page calls its own method through page.rpc');

    // A read method calling a write operation has its caller's rights.
    await assert.rejects(ops.invoke('wall.reset', {}, anon), { code: 'REMON_ERR_OP_UNAUTHORIZED' });
    await ops.invoke('wall.reset', {}, admin);

    n.write('wall.js', WALL.replace("by: page.name", "by: 'v2'"));
    assert.deepEqual((await ops.invoke('wall.post', { text: 'again' }, admin)).value, { id: 1, by: 'v2' });

    n.remove('wall.js');
    await assert.rejects(ops.invoke('wall.post', { text: 'hi' }, admin), { code: 'REMON_ERR_OP_UNKNOWN', message: 'no operation is named "wall.post"' });
    assert.equal(ops.list().some((o) => o.name.startsWith('wall.')), false);
  });

  it('a method named like a built-in operation, or like another page\'s, is that page\'s error', async () => {
    n = await startPagesNode({
      files: {
        'clash.js': "module.exports = { GET: () => ({}), rpc: { 'blocks.list': () => 'mine', 'clash.other': () => 'other' } };",
        'a.js': "module.exports = { GET: () => ({ ok: true }), rpc: { 'shared.method': () => 'a' } };",
        'b.js': "module.exports = { GET: () => ({ ok: true }), rpc: { 'shared.method': () => 'b' } };",
        'fine.html': 'fine',
      },
    });
    const ops = n.engine.ops;
    assert.deepEqual(await pageError(`${n.url}/clash`), {
      status: 500, code: 'REMON_ERR_PAGE_RPC',
      error: 'rpc method "blocks.list" of page "clash" is a built-in operation\'s name; choose another name',
    });
    assert.ok(Array.isArray((await ops.invoke('blocks.list', {}, anon)).value), 'the built-in keeps its name');
    await assert.rejects(ops.invoke('clash.other', {}, admin), { code: 'REMON_ERR_OP_UNKNOWN' }, 'none of a failing page\'s methods join');
    assert.equal((await ops.invoke('shared.method', {}, admin)).value, 'a', 'the first page (folder order, then name) keeps the name');
    assert.deepEqual(await (await fetch(`${n.url}/a`)).json(), { ok: true });
    assert.deepEqual(await pageError(`${n.url}/b`), {
      status: 500, code: 'REMON_ERR_PAGE_RPC',
      error: 'rpc method "shared.method" of page "b" is declared by page "a" already; choose another name',
    });
    assert.equal(await (await fetch(`${n.url}/fine`)).text(), 'fine');
    n.remove('a.js');
    assert.equal((await ops.invoke('shared.method', {}, admin)).value, 'b', 'once a is gone, b has it');
    assert.deepEqual(await (await fetch(`${n.url}/b`)).json(), { ok: true });
  });

  const bad: Array<[string, string, string]> = [
    ['a name that is not area.verb', "module.exports = { rpc: { 'Wall': () => 1 } };", 'bad.js: rpc method "Wall" is not named area.verb (e.g. "wall.post")'],
    ['a method without a handler', "module.exports = { rpc: { 'wall.x': { summary: 'x' } } };", 'bad.js: rpc method "wall.x" has no handler function'],
    ['params that are no schema ajv takes', "module.exports = { rpc: { 'wall.x': { params: { type: 'object', propertiez: {} }, handler: () => 1 } } };", 'bad.js: rpc method "wall.x": params is not a usable JSON schema: strict mode: unknown keyword: "propertiez"'],
    ['write that is not a boolean', "module.exports = { rpc: { 'wall.x': { write: 'yes', handler: () => 1 } } };", 'bad.js: rpc method "wall.x": write must be true or false'],
  ];
  for (const [name, source, error] of bad) {
    it(`a page declaring ${name} shows it as its error`, async () => {
      n = await startPagesNode({ files: { 'bad.js': source } });
      assert.deepEqual(await pageError(`${n.url}/bad`), { status: 500, code: 'REMON_ERR_PAGE_SCRIPT', error });
    });
  }
});

describe('pages: .ts page scripts', function () {
  this.timeout(20_000);
  let n: PagesNode | undefined;
  const load = typescriptLoader.load;
  afterEach(async () => {
    typescriptLoader.load = load;
    await n?.stop();
    n = undefined;
  });

  it('are transpiled with the installed typescript; a type error is not checked, a syntax error is the page\'s', async () => {
    n = await startPagesNode({
      files: {
        'typed.ts': `interface Row { name: string; n: number }
const rows: Row[] = [{ name: 'a', n: 1 }];
export default {
  async GET(req: { query: Record<string, string> }): Promise<{ rows: Row[]; who: string }> { return { rows, who: req.query.who ?? 'nobody' }; },
  rpc: { 'typed.count': { write: false, handler: async (): Promise<number> => rows.length } },
};`,
        'typed.html': '{% for r in rows %}{{ r.name }}={{ r.n }};{% endfor %} {{ who }}',
        'broken.ts': 'export default {\n  GET(): { return 1; }\n};',
      },
    });
    assert.equal(await (await fetch(`${n.url}/typed?who=ts`)).text(), 'a=1; ts');
    assert.equal((await n.engine.ops.invoke('typed.count', {}, anon)).value, 1);
    const e = await pageError(`${n.url}/broken`);
    assert.equal(e.code, 'REMON_ERR_PAGE_SCRIPT');
    assert.equal(e.error, 'broken.ts:2:12: Property or signature expected.');
  });

  it('without typescript installed a .ts page says so, and .js pages still work', async () => {
    typescriptLoader.load = () => { throw new Error("Cannot find module 'typescript'"); };
    n = await startPagesNode({ files: { 'typed.ts': 'export default { GET: () => ({}) };', 'plain.js': 'module.exports = { GET: () => ({ js: true }) };' } });
    assert.deepEqual(await pageError(`${n.url}/typed`), {
      status: 500, code: 'REMON_ERR_PAGE_TYPESCRIPT',
      error: 'typed.ts is TypeScript, and the typescript package is not installed; install it (npm install typescript) or write the script as .js',
    });
    assert.deepEqual(await (await fetch(`${n.url}/plain`)).json(), { js: true });
  });
});
