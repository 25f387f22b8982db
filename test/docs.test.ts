import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../src/cli/main';
import { body, freePort, stopChild, tmpDir, waitFor, writeConfig } from './helpers';

/**
 * The documents say only what is so: every command in the README's table answers its
 * help, every route in docs/http.md answers on a running node (with the keys its row
 * names), and what node.listen serves is said the same way in the schema and the docs.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** tableRows gives the cells of a markdown table's body rows in a section of a document. */
function tableRows(text: string, heading: string): string[][] {
  const section = text.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  assert.ok(section, `no section "## ${heading}"`);
  return section.split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.trim().replace(/\u0000/g, '|')));
}

/** backticked gives the `code` spans of a cell. */
const backticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/**
 * documentedKeys reads the top-level keys an answer cell shows: from `{a, "b": 1, c?: {..}}`
 * or `[{...}]`, the keys not marked optional (`?`). A span after "JSON" is a request body.
 */
export function documentedKeys(cell: string): string[] {
  const span = [...cell.matchAll(/(JSON )?`([[{][^`]*)`/g)].find((m) => !m[1])?.[2];
  if (!span) return [];
  let inner = span.replace(/^\[?\{/, '').replace(/\}\]?$/, '');
  // Drop nested collections, innermost first.
  for (let prev = ''; prev !== inner;) {
    prev = inner;
    inner = inner.replace(/\{[^{}[\]]*\}|\[[^{}[\]]*\]/g, '');
  }
  return inner.split(',')
    .map((part) => part.split(':')[0].trim().replace(/^"|"$/g, ''))
    .filter((k) => /^[A-Za-z_]\w*$/.test(k));
}

describe('docs say what is so', () => {
  describe("README's command table", () => {
    const commands = tableRows(read('README.md'), 'Commands').map((row) => backticked(row[0])[0]);

    it('lists every command of `remon help`', async () => {
      const words = commands.map((c) => c.split(/\s+/)[1].replace(/^\[(\w+)\]$/, '$1'));
      assert.deepEqual(words, ['run', 'check', 'once', 'schema', 'send', 'config', 'status', 'alerts', 'rpc', 'rrd', 'help']);
      const help = (await cli(['help'])).out;
      for (const w of words) assert.match(help, new RegExp(`^  remon ${w === 'run' ? '\\[run\\]' : w}\\s`, 'm'), w);
    });

    for (const command of commands) {
      const word = command.split(/\s+/)[1].replace(/^\[(\w+)\]$/, '$1');
      const title = word === 'help' ? `${command}: \`remon help\` prints the usage of every command` : `${command}: \`remon help ${word}\` and \`remon ${word} --help\` print its usage`;
      it(title, async () => {
        if (word === 'help') {
          const r = await cli(['help']);
          assert.equal(r.code, 0);
          assert.match(r.out, /^remon — monitoring from one YAML file\n\nUsage:/);
          return;
        }
        const usage = new RegExp(`^Usage: remon ${word === 'run' ? '\\[run\\]' : word}\\s`);
        const viaHelp = await cli(['help', word]);
        const viaFlag = await cli([word, '--help']);
        assert.equal(viaHelp.code, 0);
        assert.match(viaHelp.out, usage);
        assert.equal(viaFlag.code, 0, viaFlag.err);
        assert.equal(viaFlag.out, viaHelp.out);
        // `remon rrd create|update|...`: each sub-command answers too.
        const subs = command.split(/\s+/)[2] ?? '';
        for (const sub of /^\w+(\|\w+)+$/.test(subs) ? subs.split('|') : []) {
          const r = await cli([word, sub, '--help']);
          assert.equal(r.code, 0, `${word} ${sub}`);
          assert.match(r.out, new RegExp(`^Usage: remon ${word} `), `${word} ${sub}`);
        }
      });
    }
  });

  describe('node.listen', () => {
    it('the schema and docs/config.md say it serves the web UI, the API and RPC', async () => {
      const schema = JSON.parse((await cli(['schema'])).out);
      const listen: string = schema.properties.node.properties.listen.description;
      assert.equal(listen, 'Address of the web UI (the dashboard and drop-in pages), the HTTP API, JSON-RPC (/rpc), the heartbeat endpoints and /metrics (default 127.0.0.1:2001).');
      const row = tableRows(read('docs/config.md'), 'node').find((r) => r[0] === '`listen`');
      assert.match(row![2], /the web UI \(the dashboard at `\/`, drop-in pages, `\/status`.*\), the API, JSON-RPC \(`\/rpc`\), the heartbeat endpoints \(`\/hb\/...`\) and `\/metrics`/);
      assert.doesNotMatch(read('docs/config.md') + read('docs/http.md') + read('monitor.yaml'), /once it is built|web UI later/);
      assert.doesNotMatch(read('docs/config.md') + read('docs/http.md'), /web UI, API and RPC/);
    });
  });

  describe('docs/http.md, on a running node (remon run, the default rrd store)', function () {
    this.timeout(30_000);
    let child: ChildProcess | undefined;
    let base = '';
    const token = 'docs-token';
    const routes = tableRows(read('docs/http.md'), 'Routes').flatMap((row) => {
      let methods: string[] = [];
      const out: Array<{ method: string; path: string; keys: string[] }> = [];
      for (const span of backticked(row[0])) {
        const m = /^((?:GET|HEAD|POST|PUT)(?:\|(?:GET|HEAD|POST|PUT))*) (\/\S*)$/.exec(span);
        const route = m ? m[2] : span.startsWith('/') ? span : undefined;
        if (m) methods = m[1].split('|');
        if (route) for (const method of methods) out.push({ method, path: route.replace(/\?.*$/, ''), keys: documentedKeys(row[2]) });
      }
      return out;
    });

    before(async () => {
      const port = await freePort();
      const dir = tmpDir();
      // A dropped-in passive type whose hub ticks on the node's clock and adds a block at
      // start: what docs/blocks.md says such a type can do.
      fs.mkdirSync(path.join(dir, 'types', 'ticker'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'types', 'ticker', 'index.js'), `
        module.exports = {
          type: 'ticker', description: 'a passive type whose hub ticks', passive: true,
          schema: { properties: {} },
          hub(env) {
            const emits = new Map();
            let timer;
            const tick = () => {
              for (const emit of emits.values()) emit({ ok: true, fields: { blocks: emits.size } });
              timer = env.clock.setTimer(tick, 100);
            };
            let ticks = 0;
            const count = () => { ticks++; };
            return {
              emits,
              // An operation of its own, with a REST route, and a write that needs the token.
              ops: [
                { name: 'ticker.count', summary: 'ticks so far', write: false, params: { type: 'object', additionalProperties: false, properties: {} },
                  http: { method: 'GET', path: '/api/ticker' }, handler: (_p, ctx) => ({ ticks, blocks: ctx.node.hub('ticker').emits.size }) },
                { name: 'ticker.bump', summary: 'add a tick', write: true,
                  params: { type: 'object', additionalProperties: false, required: ['by'], properties: { by: { type: 'integer', minimum: 1 } } },
                  http: { method: 'POST', path: '/api/ticker' }, handler: (p) => { ticks += p.by; return { ticks }; } },
              ],
              async start() { env.addBlock('tick_added', {}); timer = env.clock.setTimer(() => { count(); tick(); }, 100); },
              async stop() { env.clock.clearTimer(timer); },
            };
          },
          create(options, env) {
            env.hub.emits.set(env.name, env.emit);
            return { run: async () => ({ ok: false, message: 'signalled, not run' }), close() { env.hub.emits.delete(env.name); } };
          },
        };`);
      const file = writeConfig(
        `node: { listen: "127.0.0.1:${port}", data: ./data, token: ${token}, block_dirs: [types] }\n` +
          'blocks:\n' +
          '  - name: web\n    type: shell\n    every: 1s\n    command: "echo 7"\n    parse: number\n' +
          // The second step cannot take the lock the first holds: a pipe error, shown in /metrics.
          '    pipe:\n      - lock: { name: L, ttl: 1h }\n      - with-lock: { name: L, ttl: 1s, steps: [ { increment: n } ] }\n' +
          '  - { name: backup, type: heartbeat, period: 1d }\n' +
          '  - { name: tick, type: ticker }\n' +
          'derive:\n  - { name: web.double, expr: "web.value * 2" }\n' +
          'slas:\n' +
          '  - { name: web, test: "web.double == 14" }\n' +
          '  - { name: web-slo, objective: { good: "web.up == 1", target: 99%, window: 1d } }\n' +
          // A silence, so the silence routes have one to show (and one to refuse to expire).
          'silences:\n  - { match: { team: web }, until: 2099-01-01T00:00:00Z, comment: docs }\n' +
          // A peer that is not there, so the peer routes have one to show (as down).
          `peers:\n  other: { url: "http://127.0.0.1:${port + 1}" }\n`,
        dir,
      );
      child = spawn(process.execPath, [MAIN, 'run', file], { stdio: 'ignore' });
      base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, 15_000, '/healthz');
      await waitFor(async () => {
        const blocks = (await (await fetch(`${base}/api/blocks`)).json()) as Array<{ name: string; runs: number }>;
        return blocks.find((b) => b.name === 'web')!.runs >= 1;
      }, 10_000, 'the first run of block web');
    });
    before(async () => {
      // An alert for the alert routes: a heartbeat that failed.
      assert.equal((await fetch(`${base}/hb/backup/fail`, { method: 'POST' })).status, 200);
      await waitFor(async () => ((await (await fetch(`${base}/api/alerts`)).json()) as unknown[]).length === 1, 10_000, 'the alert of backup');
    });
    after(() => stopChild(child, 5000));

    it('has the routes to check', () => {
      assert.ok(routes.length >= 20, `${routes.length} routes`);
      assert.deepEqual([...new Set(routes.map((r) => r.method))].sort(), ['GET', 'HEAD', 'POST', 'PUT']);
    });

    it('every route answers (not 404, no 5xx), with the keys its row names', async () => {
      const real: Record<string, string> = { name: 'web', exitcode: '0', id: '1', sla: 'web' };
      const answers: string[] = [];
      for (const r of routes) {
        const url = r.path
          .replace(/^\/api\/series\/:name/, '/api/series/web.value')
          .replace(/^\/(hb|api\/heartbeats)\/:name/, '/$1/backup')
          .replace(/^\/api\/silences\/:id/, '/api/silences/yaml-1')
          .replace(/^\/api\/peers\/:name/, '/api/peers/other')
          .replace(/:(\w+)/g, (_m, p: string) => real[p] ?? p);
        const post = r.method === 'POST' || r.method === 'PUT';
        const res = await fetch(`${base}${url}`, {
          method: r.method,
          headers: post ? { authorization: `Bearer ${token}`, 'content-type': 'application/json' } : {},
          body: post ? '{}' : undefined,
        });
        const text = await res.text();
        answers.push(`${r.method} ${url} → ${res.status}`);
        assert.ok(res.status !== 404 && res.status < 500, `${r.method} ${url} → ${res.status} ${text}`);
        if (r.keys.length === 0 || r.method === 'HEAD') continue;
        const json = JSON.parse(text);
        const one = Array.isArray(json) ? json[0] : json;
        for (const k of r.keys) assert.ok(one && k in one, `${r.method} ${url}: no "${k}" in ${text.slice(0, 300)}`);
      }
      assert.ok(answers.length === routes.length);
    });

    // What the rows say of errors and edge cases, each tried.
    const statuses: Array<[string, string, string, Record<string, string> | undefined, string | undefined, number, RegExp?]> = [
      ['an unknown block', 'GET', '/api/blocks/nope', undefined, undefined, 404, /^\{"error":"no block is named \\"nope\\"","code":"REMON_ERR_BLOCK_UNKNOWN"\}$/],
      ['a run without the token', 'POST', '/api/blocks/web/run', {}, undefined, 401],
      ['a run of a passive block', 'POST', '/api/blocks/backup/run', { authorization: `Bearer ${token}` }, undefined, 404],
      ['an unknown series', 'GET', '/api/series/nope.x', undefined, undefined, 404],
      ['an unknown SLA', 'GET', '/api/slas/nope', undefined, undefined, 404, /^\{"error":"no SLA is named \\"nope\\"","code":"REMON_ERR_SLA_UNKNOWN"\}$/],
      ['a bad range', 'GET', '/api/series/web.value?from=-1', undefined, undefined, 400, /from must be epoch milliseconds from 0 to 8640000000000000, got \\"-1\\"/],
      ['an unknown heartbeat signal', 'GET', '/hb/nope', undefined, undefined, 404, /^\{"error":"no heartbeat is named/],
      ['an exit code over 255', 'GET', '/hb/backup/300', undefined, undefined, 400, /^\{"error":"exit codes are 0-255; got 300"\}$/],
      ['another method on a heartbeat', 'DELETE', '/hb/backup', undefined, undefined, 405],
      ['a heartbeat edit of a block of another type', 'POST', '/api/heartbeats/web', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{"period":"1d"}', 409],
      ['a heartbeat created at run time', 'POST', '/api/heartbeats/nightly', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{"period":"1d"}', 201],
      ['the same heartbeat edited', 'POST', '/api/heartbeats/nightly', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{"grace":"5m"}', 200],
      ['a write that is not JSON', 'POST', '/api/reload', { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, 'x', 415],
      ['a body that is not valid JSON', 'POST', '/api/reload', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{', 400, /^\{"error":"the body is not valid JSON: /],
      ['an unknown alert', 'GET', '/api/alerts/99', undefined, undefined, 404, /^\{"error":"no alert has id \\"99\\"","code":"REMON_ERR_ALERT_UNKNOWN"\}$/],
      ['an ack without the token', 'POST', '/api/alerts/1/ack', {}, undefined, 401],
      ['an expiry of a silence of monitor.yaml', 'POST', '/api/silences/yaml-1/expire', { authorization: `Bearer ${token}` }, undefined, 409, /silence yaml-1 is in monitor\.yaml; remove it there/],
      ['an unknown peer', 'GET', '/api/peers/nope', undefined, undefined, 404, /^\{"error":"no peer is named \\"nope\\"; peers: other","code":"REMON_ERR_PEER_UNKNOWN"\}$/],
      ['an unknown route', 'GET', '/x', undefined, undefined, 404, /^\{"error":"no route for GET \/x"\}$/],
    ];
    for (const [what, method, url, headers, reqBody, status, answer] of statuses) {
      it(`${what}: ${method} ${url} → ${status}, as the rows say`, async () => {
        const res = await fetch(`${base}${url}`, { method, headers, body: reqBody });
        const text = await res.text();
        assert.equal(res.status, status, text);
        if (answer) assert.match(text, answer);
      });
    }

    it('without a step, the default rrd store answers at its archive\'s step, as the series row says', async () => {
      const res = await body(await fetch(`${base}/api/series/web.value`));
      assert.equal(res.step, 10_000);
      // The last hour in 10 s rows, give or take the rows at its ends.
      assert.ok(res.points.length >= 360 && res.points.length <= 362, `${res.points.length} points`);
      const row = tableRows(read('docs/http.md'), 'Routes').find((r) => r[0].startsWith('`GET /api/series/:name'))!;
      assert.match(row[2], /without it the memory and influx stores answer raw samples with `step` 0, and the RRD store, the default, answers the rows of the archive/);
    });

    it('/metrics has every metric its row names', async () => {
      const row = tableRows(read('docs/http.md'), 'Routes').find((r) => r[0] === '`GET /metrics`')!;
      const names = backticked(row[2]).map((n) => n.replace(/\{.*$/, '')).filter((n) => /^remon_\w+$/.test(n));
      assert.ok(names.length >= 12, names.join());
      const text = await (await fetch(`${base}/metrics`)).text();
      for (const n of names) assert.match(text, new RegExp(`^${n}[{ ]`, 'm'), n);
    });

    it('a dropped-in passive type emits through its hub and adds blocks (docs/blocks.md); it cannot be run', async () => {
      await waitFor(async () => {
        const blocks = (await (await fetch(`${base}/api/blocks`)).json()) as Array<{ name: string; status: string; fields: Record<string, number> }>;
        const tick = blocks.filter((b) => b.name.startsWith('tick'));
        return tick.length === 2 && tick.every((b) => b.status === 'ok' && b.fields.blocks === 2);
      }, 5000, 'both ticker blocks to report');
      const run = await fetch(`${base}/api/blocks/tick/run`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      assert.equal(run.status, 404);
      assert.equal((await body(run)).error, 'block "tick" is signalled, not run');
    });

    it('a dropped-in type\'s hub brings operations with REST routes; its writes need the token and their params are checked', async () => {
      const count = await body(await fetch(`${base}/api/ticker`));
      assert.equal(count.blocks, 2);
      assert.ok(count.ticks >= 1);
      const json = { 'content-type': 'application/json' };
      assert.equal((await fetch(`${base}/api/ticker`, { method: 'POST', headers: json, body: '{"by": 1000}' })).status, 401);
      const bad = await fetch(`${base}/api/ticker`, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: '{"by": 0}' });
      assert.equal(bad.status, 400);
      assert.equal((await body(bad)).error, 'by: must be at least 1; got 0');
      const bumped = await fetch(`${base}/api/ticker`, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: '{"by": 1000}' });
      assert.equal(bumped.status, 200);
      assert.ok((await body(bumped)).ticks >= 1000);
    });
  });
});
