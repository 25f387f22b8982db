import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { captureLog, tmpDir } from './helpers';
import { PagesNode, rawRequest, shownError, startPagesNode, writeTree } from './pages-harness';

const json = { 'content-type': 'application/json' };


async function text(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('pages: drop-in templates and scripts served from the page folders', function () {
  this.timeout(20_000);
  let n: PagesNode | undefined;
  afterEach(async () => {
    await n?.stop();
    n = undefined;
  });

  it('a page added, changed and removed is served, updated and gone (404) without a restart', async () => {
    n = await startPagesNode({ files: { 'index.html': '<p>home of {{ node.name }}</p>' } });
    assert.equal((await text(`${n.url}/`)).body, '<p>home of pagenode</p>');
    assert.equal((await text(`${n.url}/hello`)).status, 404);

    n.write('hello.html', '<p>hello {{ page.query.who }}</p>');
    const added = await text(`${n.url}/hello?who=ann`);
    assert.deepEqual([added.status, added.type, added.body], [200, 'text/html; charset=utf-8', '<p>hello ann</p>']);

    n.write('hello.html', '<p>hello again, {{ page.query.who }}!</p>');
    assert.equal((await text(`${n.url}/hello?who=bob`)).body, '<p>hello again, bob!</p>');

    n.write('hello.js', 'module.exports = { GET: async (req) => ({ greeting: "hi from the script", rest: req.path }) };');
    n.write('hello.html', '<p>{{ greeting }} {{ rest }} {{ page.path }}</p>');
    assert.equal((await text(`${n.url}/hello/a%20b/c`)).body, '<p>hi from the script /a b/c /a b/c</p>');

    n.write('hello.js', 'module.exports = { GET: async () => ({ greeting: "changed script" }) };');
    assert.equal((await text(`${n.url}/hello`)).body, '<p>changed script  </p>');

    n.remove('hello.html');
    n.remove('hello.js');
    const gone = await text(`${n.url}/hello`);
    assert.equal(gone.status, 404);
    assert.equal((await text(`${n.url}/`)).body, '<p>home of pagenode</p>', 'the others keep working');
  });

  it('a script without a template answers JSON; page.respond answers raw (an SVG); a POST needs the token and gets the JSON body', async () => {
    n = await startPagesNode({
      token: 's3cret',
      files: {
        'data.js': `module.exports = {
          async GET(req, page) { return { page: page.name, node: page.node.name, query: req.query, method: req.method }; },
          async POST(req, page) { await page.shared.counters.incr('posts', 1); return { got: req.body, posts: await page.rpc('counter.get', { name: 'posts' }).catch((e) => e.code) }; },
        };`,
        'svg.js': `module.exports = { GET: (req, page) => page.respond({ type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>', headers: { 'x-badge': 'yes' } }) };`,
      },
    });
    const data = await fetch(`${n.url}/data?x=1&x=2`);
    assert.equal(data.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await data.json(), { page: 'data', node: 'pagenode', query: { x: ['1', '2'] }, method: 'GET' });

    const svg = await fetch(`${n.url}/svg`);
    assert.deepEqual([svg.status, svg.headers.get('content-type'), svg.headers.get('x-badge'), await svg.text()], [200, 'image/svg+xml', 'yes', '<svg xmlns="http://www.w3.org/2000/svg"/>']);

    const anon = await fetch(`${n.url}/data`, { method: 'POST', headers: json, body: '{"a":1}' });
    assert.equal(anon.status, 401);
    assert.deepEqual(await anon.json(), { error: 'missing or wrong bearer token (Authorization: Bearer <node.token>)', code: 'REMON_ERR_OP_UNAUTHORIZED', page: 'data' });
    const ok = await fetch(`${n.url}/data`, { method: 'POST', headers: { ...json, authorization: 'Bearer s3cret' }, body: '{"a":1}' });
    assert.equal(ok.status, 200);
    const got = await ok.json() as { got: unknown };
    assert.deepEqual(got.got, { a: 1 });

    const noPost = await fetch(`${n.url}/svg`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
    assert.equal(noPost.status, 405);
    assert.equal((await noPost.json() as { error: string }).error, 'page "svg" takes no POST (its script has no POST handler)');
  });

  it('templates escape by default (| raw opts out), and layouts and renders come from the page folders in order', async () => {
    const builtin = tmpDir('remon-builtin-');
    writeTree(builtin, {
      'layout.html': '<main class="builtin">{% block %}{% endblock %}</main>',
      'nav.html': '<nav>builtin nav</nav>',
      'only-builtin.html': '{% layout "layout.html" %}{% render "nav.html" %}built-in page',
    });
    n = await startPagesNode({
      builtin,
      files: {
        'x.js': 'module.exports = { GET: () => ({ evil: "<script>alert(1)</script>", amp: "a&b" }) };',
        'x.html': '{{ evil }}|{{ amp }}|{{ evil | raw }}',
        'nav.html': '<nav>user nav {{ who }}</nav>',
        'with-layout.html': '{% layout "layout.html" %}{% render "nav.html", who: "me" %}body',
      },
    });
    assert.equal((await text(`${n.url}/x`)).body, '&lt;script&gt;alert(1)&lt;/script&gt;|a&amp;b|<script>alert(1)</script>');
    assert.equal((await text(`${n.url}/with-layout`)).body, '<main class="builtin"><nav>user nav me</nav>body</main>');
    assert.equal((await text(`${n.url}/only-builtin`)).body, '<main class="builtin"><nav>user nav </nav>built-in page</main>', 'the user folder is searched first');

    n.write('layout.html', '<main class="user">{% block %}{% endblock %}</main>');
    assert.equal((await text(`${n.url}/with-layout`)).body, '<main class="user"><nav>user nav me</nav>body</main>', 'a new file in an earlier folder takes over on the next request');
    n.write('nav.html', '<nav>changed nav</nav>');
    assert.equal((await text(`${n.url}/with-layout`)).body, '<main class="user"><nav>changed nav</nav>body</main>', 'a changed partial is read again');
    n.remove('layout.html');
    assert.equal((await text(`${n.url}/with-layout`)).body, '<main class="builtin"><nav>changed nav</nav>body</main>', 'a removed one falls back');
  });

  it('the context: node, page, session, and the node lists computed only when the template names them', async () => {
    n = await startPagesNode({
      files: {
        'plain.html': '{{ node.name }}|{{ node.version }}|{{ page.name }}|{{ session.authorized }}|{{ session.token_required }}',
        'lists.html': '{% for b in blocks %}{{ b.name }},{% endfor %}|{{ slas.size }}|{{ alerts.size }}|{{ heartbeats.size }}',
        'own.js': 'module.exports = { GET: () => ({ blocks: ["mine"] }) };',
        'own.html': '{{ blocks | join: "," }}',
      },
    });
    const calls: string[] = [];
    const invoke = n.engine.ops.invoke.bind(n.engine.ops);
    n.engine.ops.invoke = (name, params, caller) => { calls.push(name); return invoke(name, params, caller); };
    const version = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal((await text(`${n.url}/plain`)).body, `pagenode|${version}|plain|true|false`);
    assert.deepEqual(calls, [], 'a template that names no list asks for none');
    assert.equal((await text(`${n.url}/lists`)).body, 'alpha,beta,|0|0|0');
    assert.deepEqual(calls, ['blocks.list', 'heartbeats.list'], 'lists the node lacks (no SLA or alert parts here) are empty, unasked');
    assert.equal((await text(`${n.url}/own`)).body, 'mine', 'what GET returns wins over the node lists');
    calls.length = 0;
    n.write('nested.html', '{% if blocks.size > 1 %}{% for h in heartbeats %}x{% endfor %}hb:{{ heartbeats.size }}{% endif %}');
    assert.equal((await text(`${n.url}/nested`)).body, 'hb:0', 'a list reached only once another is known is fetched too');
    assert.deepEqual(calls, ['blocks.list', 'heartbeats.list']);
  });

  describe('a broken page shows its own error and the others keep working', () => {
    const cases: Array<{ name: string; files: Record<string, string>; path: string; status: number; type: string; error: RegExp }> = [
      {
        name: 'a GET handler that throws',
        files: { 'bad.js': 'module.exports = {\n  GET() {\n    throw new Error("the <database> is down");\n  },\n};', 'bad.html': 'never' },
        path: '/bad', status: 500, type: 'text/html; charset=utf-8',
        error: /^page "bad": GET handler failed: the <database> is down \(at bad\.js:3:11\)$/,
      },
      {
        name: 'a template syntax error',
        files: { 'bad.html': '<p>{% if %}</p>' },
        path: '/bad', status: 500, type: 'text/html; charset=utf-8',
        error: /^invalid value expression: "", file:bad\.html, line:1, col:9/,
      },
      {
        name: 'an unknown filter at render',
        files: { 'bad.html': '{{ 1 | nosuchfilter }}' },
        path: '/bad', status: 500, type: 'text/html; charset=utf-8',
        error: /undefined filter: nosuchfilter/,
      },
      {
        name: 'a script with a syntax error (JSON page)',
        files: { 'bad.js': 'module.exports = { GET() { return {; } };' },
        path: '/bad', status: 500, type: 'application/json; charset=utf-8',
        error: /^bad\.js failed to load: Unexpected token ';' \(at bad\.js:1\)$/,
      },
      {
        name: 'a script of the wrong shape',
        files: { 'bad.js': 'module.exports = { GET: 5 };' },
        path: '/bad', status: 500, type: 'application/json; charset=utf-8',
        error: /^bad\.js: GET must be a function \(async \(req, page\) => \.\.\.\)$/,
      },
      {
        name: 'a handler returning what JSON cannot hold',
        files: { 'bad.js': 'module.exports = { GET() { const a = {}; a.a = a; return a; } };' },
        path: '/bad', status: 500, type: 'application/json; charset=utf-8',
        error: /^page "bad": GET returned what cannot be sent as JSON: Converting circular structure to JSON/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { log, records } = captureLog();
        n = await startPagesNode({ log, files: { ...c.files, 'good.html': 'still fine' } });
        const first = await text(`${n.url}${c.path}`);
        assert.equal(first.status, c.status);
        assert.equal(first.type, c.type);
        const shown = first.type.startsWith('text/html')
          ? shownError(first.body)
          : (JSON.parse(first.body) as { error: string }).error;
        assert.match(shown, c.error);
        assert.equal((await text(`${n.url}/good`)).body, 'still fine');
        await text(`${n.url}${c.path}`);
        const logged = records.filter((r) => r.msg === 'page failed' && r.page === 'bad');
        assert.equal(logged.length, 1, 'the error is logged once');
      });
    }

    it('a page fixed after an error works again, and a later error is logged again', async () => {
      const { log, records } = captureLog();
      n = await startPagesNode({ log, files: { 'p.html': '{% if %}' } });
      assert.equal((await text(`${n.url}/p`)).status, 500);
      n.write('p.html', 'fixed!');
      assert.equal((await text(`${n.url}/p`)).body, 'fixed!');
      n.write('p.html', '{% endif %}');
      assert.equal((await text(`${n.url}/p`)).status, 500);
      assert.equal(records.filter((r) => r.msg === 'page failed').length, 2);
    });
  });

  it('static files: first folder wins, ETag revalidation answers 304, chart.js comes from the installed package', async () => {
    const builtin = tmpDir('remon-builtin-');
    writeTree(builtin, { 'static/app.css': 'builtin', 'static/only.txt': 'only builtin' });
    n = await startPagesNode({ builtin, files: { 'static/app.css': 'body { color: red }', 'static/img/x.svg': '<svg/>' } });
    const css = await fetch(`${n.url}/static/app.css`);
    assert.deepEqual([css.status, css.headers.get('content-type'), await css.text()], [200, 'text/css; charset=utf-8', 'body { color: red }']);
    assert.equal(await (await fetch(`${n.url}/static/only.txt`)).text(), 'only builtin');
    assert.equal((await fetch(`${n.url}/static/img/x.svg`)).headers.get('content-type'), 'image/svg+xml');
    const etag = css.headers.get('etag')!;
    assert.equal((await fetch(`${n.url}/static/app.css`, { headers: { 'if-none-match': etag } })).status, 304);
    n.write('static/app.css', 'body { color: blue; }');
    const changed = await fetch(`${n.url}/static/app.css`, { headers: { 'if-none-match': etag } });
    assert.deepEqual([changed.status, await changed.text()], [200, 'body { color: blue; }']);
    const chart = await fetch(`${n.url}/static/chart.js`);
    assert.equal(chart.status, 200);
    assert.match(await chart.text(), /^\/\*!\n \* Chart\.js v4\./);
    assert.equal((await fetch(`${n.url}/static/nope.css`)).status, 404);
  });

  it('a reload that changes web.pages serves the new folders', async () => {
    n = await startPagesNode({ files: { 'where.html': 'first folder' } });
    writeTree(path.join(n.dir, 'other'), { 'where.html': 'other folder', 'extra.html': 'extra' });
    assert.equal((await text(`${n.url}/where`)).body, 'first folder');
    const file = path.join(n.dir, 'monitor.yaml');
    fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8')}\nweb: { pages: [other, web] }\n`);
    await n.engine.reload();
    assert.equal((await text(`${n.url}/where`)).body, 'other folder');
    assert.equal((await text(`${n.url}/extra`)).body, 'extra');
  });

  it('API routes win over a page of the same name; an unknown path is the node 404', async () => {
    n = await startPagesNode({ files: { 'healthz.html': 'a page', 'api.html': 'api page' } });
    assert.equal(((await (await fetch(`${n.url}/healthz`)).json()) as { status: string }).status, 'ok');
    assert.equal((await fetch(`${n.url}/api/blocks`)).headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await (await fetch(`${n.url}/api`)).text(), 'api page');
    const missing = await rawRequest(n.url, '/no-such-page');
    assert.deepEqual([missing.status, JSON.parse(missing.body)], [404, { error: 'no route for GET /no-such-page' }]);
  });
});
