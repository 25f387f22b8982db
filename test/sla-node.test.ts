/**
 * SLA tests on a real node (src/sla/plugin.ts): a shell block whose output the test
 * controls (it cats a file the test writes) drives a derived series and two SLAs from ok to
 * firing to ok, seen on /api/slas, /metrics, the bus (the `sla.state` events the alerts
 * consume), the series sla.<name>.ok and `remon status`; a reload restarts a changed SLA
 * and keeps an unchanged one; a restart brings the states back from the SLA log.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertsPlugin } from '../src/alerts/plugin';
import * as path from 'node:path';
import type { NodeEvent } from '../src/bus';
import { loadConfig } from '../src/config/load';
import { createDerivePlugin } from '../src/derive';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { createSlaPlugin, SlaView } from '../src/sla';
import { captureLog, freePort, tmpDir, waitFor, writeConfig } from './helpers';

const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

interface Node {
  engine: Engine;
  base: string;
  events: NodeEvent[];
  sla: ReturnType<typeof createSlaPlugin>;
}

/** A node with the CLI's parts (blocks, derive, slas), on a port of its own, recording the bus's events. */
async function startNode(file: string, port: number, log = silentLogger(), alerts = false): Promise<Node> {
  const load = () => loadConfig(file, registry);
  const sla = createSlaPlugin();
  const plugins = [createDerivePlugin(), sla, ...(alerts ? [alertsPlugin()] : [])];
  const engine = new Engine({ ...load(), log, plugins, loadConfig: async () => load() });
  const events: NodeEvent[] = [];
  engine.bus.subscribe('test-events', (m) => { if (m.event?.kind === 'sla.state') events.push(m.event); });
  await engine.start();
  return { engine, base: `http://127.0.0.1:${port}`, events, sla };
}

async function slas(n: Node): Promise<Record<string, SlaView>> {
  const list = (await (await fetch(`${n.base}/api/slas`)).json()) as SlaView[];
  return Object.fromEntries(list.map((s) => [s.name, s]));
}

/** waitState waits until /api/slas shows each SLA named in the state given. */
async function waitState(n: Node, want: Record<string, string>, timeoutMs = 8000): Promise<Record<string, SlaView>> {
  let last: Record<string, SlaView> = {};
  try {
    await waitFor(async () => {
      last = await slas(n);
      return Object.entries(want).every(([name, state]) => last[name]?.state === state);
    }, timeoutMs, JSON.stringify(want));
  } catch (err) {
    throw new Error(`${(err as Error).message}; last: ${JSON.stringify(Object.values(last).map((s) => [s.name, s.state, s.message]))}`);
  }
  return last;
}

/** changes renders the events of one SLA as from→to (! when notified). */
const changes = (n: Node, sla: string): string[] => n.events.filter((e) => e.subject === sla).map((e) => `${e.data!.from}→${e.data!.to}${e.data!.notify ? '!' : ''}`);

function remon(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 }, (err, out, errOut) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut });
    });
  });
}

describe('SLA tests on a running node', function () {
  this.timeout(60_000);
  let dir: string;
  let latency: string;
  let file: string;
  let port: number;
  let node: Node | undefined;

  const config = (fastThreshold = '0.8', extra = ''): string => [
    `node: { data: ${path.join(dir, 'data')}, listen: "127.0.0.1:${port}" }`,
    'storage: { kind: memory }',
    'blocks:',
    `  - { name: app, type: shell, every: 100ms, command: "cat ${latency}", parse: kv }`,
    'derive:',
    '  - { name: app.fast_ratio, expr: "fraction(app.latency_ms < 200, 5)" }',
    'slas:',
    `  - { name: app-fast, test: "app.fast_ratio >= ${fastThreshold}", for: 300ms, severity: ticket, labels: { team: web } }`,
    '  - { name: app-up, test: "app.latency_ms < 1000" }',
    extra,
  ].join('\n');
  const setLatency = (ms: number): void => fs.writeFileSync(latency, `latency_ms=${ms}\n`);

  beforeEach(async () => {
    dir = tmpDir();
    latency = path.join(dir, 'latency.txt');
    port = await freePort();
    setLatency(50);
    file = writeConfig(config(), dir);
  });
  afterEach(async () => {
    await node?.engine.stop();
    node = undefined;
  });

  it('a shell block drives a derived series and two SLAs from ok to firing to ok: /api/slas, events, log lines, /metrics, sla.<name>.ok', async () => {
    const { log, records } = captureLog();
    fs.writeFileSync(file, config('0.8', '  - { name: app-avail, objective: { good: "app.latency_ms < 1000", target: 99%, window: 1h } }'));
    node = await startNode(file, port, log);
    const n = node;
    let s = await waitState(n, { 'app-fast': 'ok', 'app-up': 'ok' });
    assert.equal(s['app-up'].message, 'app.latency_ms (50) < 1000');
    assert.equal(s['app-fast'].message, 'app.fast_ratio (1) >= 0.8');
    assert.deepEqual([s['app-fast'].severity, s['app-fast'].labels, s['app-up'].severity], ['ticket', { team: 'web' }, 'page']);

    setLatency(1500);
    s = await waitState(n, { 'app-fast': 'firing', 'app-up': 'firing' });
    assert.equal(s['app-up'].message, 'app.latency_ms (1500) < 1000');
    assert.match(s['app-fast'].message, /^app\.fast_ratio \(0(\.\d+)?\) >= 0\.8$/);
    assert.ok(Date.parse(s['app-up'].since) <= Date.parse(s['app-fast'].since), 'app-up fires at once, app-fast after `for`');
    const one = (await (await fetch(`${n.base}/api/slas/app-up`)).json()) as SlaView;
    assert.deepEqual([one.name, one.state, one.value, one.test], ['app-up', 'firing', false, 'app.latency_ms < 1000']);
    const metrics = await (await fetch(`${n.base}/metrics`)).text();
    assert.match(metrics, /^remon_sla_state\{sla="app-up",state="firing"\} 1$/m);
    assert.match(metrics, /^remon_sla_state\{sla="app-up",state="ok"\} 0$/m);
    assert.match(metrics, /^remon_sla_evaluations_total\{sla="app-fast"\} [1-9]\d*$/m);

    setLatency(40);
    s = await waitState(n, { 'app-fast': 'ok', 'app-up': 'ok' });
    assert.equal(s['app-up'].message, 'app.latency_ms (40) < 1000');
    assert.deepEqual(changes(n, 'app-up'), ['unknown→ok', 'ok→firing!', 'firing→ok!']);
    assert.deepEqual(changes(n, 'app-fast'), ['unknown→ok', 'ok→pending', 'pending→firing!', 'firing→ok!']);
    const fired = n.events.find((e) => e.subject === 'app-fast' && e.data!.to === 'firing')!;
    assert.match(fired.message, /^app-fast firing: app\.fast_ratio \(0(\.\d+)?\) >= 0\.8 failed for \d+s$/);
    assert.deepEqual([fired.data!.severity, fired.data!.labels, fired.data!.depends_on], ['ticket', { team: 'web' }, []]);
    const resolved = n.events.find((e) => e.subject === 'app-up' && e.data!.to === 'ok' && e.data!.from === 'firing')!;
    assert.match(resolved.message, /^app-up ok: app\.latency_ms \(40\) < 1000 passes again \(was firing for \d+s\)$/);
    // Each change is one log line, the event's message, with the SLA and the states as fields.
    const lines = records.filter((r) => r.sla === 'app-up' && r.from !== undefined);
    assert.deepEqual(lines.map((r) => [r.from, r.to, r.msg]), n.events.filter((e) => e.subject === 'app-up').map((e) => [e.data!.from, e.data!.to, e.message]));

    // The SLA's own series went into the store: 1, then 0 while firing, then 1.
    const series = (await (await fetch(`${n.base}/api/series/sla.app-up.ok?from=0&to=${Date.now() + 1000}`)).json()) as { points: Array<[number, number | null]> };
    const values = series.points.map((p) => p[1]).filter((v, i, a) => v !== null && v !== a[i - 1]);
    assert.deepEqual(values, [1, 0, 1]);
    // The objective's error budget is a series too: all of it left, then some spent.
    const budget = (await (await fetch(`${n.base}/api/series/sla.app-avail.budget_remaining?from=0&to=${Date.now() + 1000}`)).json()) as { points: Array<[number, number | null]> };
    const left = budget.points.map((p) => p[1]).filter((v): v is number => v !== null);
    assert.equal(left[0], 1);
    assert.ok(left[left.length - 1] < 1, `budget ${left.join(' ')}`);
    const avail = (await slas(n))['app-avail'];
    assert.equal(avail.objective!.target, 0.99);
    assert.ok(avail.objective!.budgetRemaining! < 0, 'a burst of failures overspends a 1% budget');
    const missing = await fetch(`${n.base}/api/slas/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'no SLA is named "nope"', code: 'REMON_ERR_SLA_UNKNOWN' });
  });

  it('remon status lists the SLAs with state and the values of their last test', async () => {
    node = await startNode(file, port);
    setLatency(1500);
    await waitState(node, { 'app-up': 'firing' });
    const r = await remon(['status', '--url', node.base]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^SLA\s+STATE\s+SINCE\s+SEVERITY\s+MESSAGE$/m);
    assert.match(r.out, /^app-up\s+firing\s+(now|\S+ ago)\s+page\s+app\.latency_ms \(1500\) < 1000$/m);
    assert.match(r.out, /^app-fast\s+(pending|firing|ok)\s+(now|\S+ ago)\s+ticket\s+app\.fast_ratio \(\S+\) >= 0\.8$/m);
  });

  it('reload: a changed SLA restarts, an unchanged one keeps its state and since, a removed one is resolved, an added one starts', async () => {
    fs.writeFileSync(file, config('0.8', '  - { name: app-slow, test: "app.latency_ms < 100" }'));
    node = await startNode(file, port);
    await waitState(node, { 'app-fast': 'ok', 'app-up': 'ok', 'app-slow': 'ok' });
    setLatency(1500);
    await waitState(node, { 'app-fast': 'firing', 'app-up': 'firing', 'app-slow': 'firing' });
    // The new threshold (0.1) fails only once the fast samples have left the ratio's window.
    const ratio = (v: SlaView | undefined): number => Number(/\(([^)]+)\)/.exec(v?.message ?? '')?.[1] ?? NaN);
    await waitFor(async () => ratio((await slas(node!))['app-fast']) < 0.1, 15_000, 'app.fast_ratio below 0.1');
    const before = await slas(node);
    // app-fast's threshold drops (1500 ms still fails it); app-slow goes; app-new comes.
    fs.writeFileSync(file, config('0.1', '  - { name: app-new, test: "app.latency_ms < 2000" }'));
    await node.engine.reload();
    await node.sla.runner!.ready();
    const after = await waitState(node, { 'app-new': 'ok', 'app-up': 'firing', 'app-fast': 'firing' });
    assert.equal(after['app-up'].since, before['app-up'].since, 'unchanged: same state, same since');
    assert.equal(after['app-fast'].since, before['app-fast'].since, 'changed: restarted with its state from the SLA log');
    assert.equal(after['app-fast'].test, 'app.fast_ratio >= 0.1');
    assert.equal(after['app-slow'], undefined);
    assert.deepEqual(changes(node, 'app-slow'), ['unknown→ok', 'ok→firing!', 'firing→inactive!']);
    const gone = node.events.find((e) => e.subject === 'app-slow' && e.data!.to === 'inactive')!;
    assert.match(gone.message, /^app-slow inactive: removed from the configuration; was firing for \d+s$/);
    assert.deepEqual(Object.keys(after), ['app-fast', 'app-up', 'app-new']);
  });

  it('an SLA that fires is an alert: the webhook of its escalation gets it with the values the test saw, then its resolution', async () => {
    const got: Array<{ alert: Record<string, unknown> }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { got.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      fs.writeFileSync(file, config('0.8', [
        'contacts:',
        `  web: { webhook: "${hook}" }`,
        'escalations:',
        '  web-team: { levels: [ { notify: [web], after: 0s } ], group_wait: 0s }',
      ].join('\n')).replace('name: app-up, test: "app.latency_ms < 1000"', 'name: app-up, test: "app.latency_ms < 1000", escalate: web-team, labels: { team: web }'));
      node = await startNode(file, port, silentLogger(), true);
      await waitState(node, { 'app-up': 'ok' });
      setLatency(1500);
      await waitFor(() => got.some((g) => g.alert.state === 'firing'), 8000, 'the firing notification');
      const firing = got.find((g) => g.alert.state === 'firing')!.alert;
      assert.deepEqual([firing.sla, firing.severity, firing.value, firing.level, firing.labels], ['app-up', 'page', false, 1, { team: 'web' }]);
      assert.equal(firing.message, 'app-up firing: app.latency_ms (1500) < 1000 failed');
      setLatency(40);
      await waitFor(() => got.some((g) => g.alert.state === 'resolved'), 8000, 'the resolved notification');
      const resolved = got.find((g) => g.alert.state === 'resolved')!.alert;
      assert.equal(resolved.id, firing.id);
      assert.match(String(resolved.message), /^app-up ok: app\.latency_ms \(40\) < 1000 passes again \(was firing for \d+s\)$/);
      assert.deepEqual(got.map((g) => `${g.alert.sla} ${g.alert.state}`), ['app-up firing', 'app-up resolved'], 'app-fast has no escalation: kept, nobody told');
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

  it('restart: states come back from the SLA log, since kept; the next evaluation goes on from there', async () => {
    node = await startNode(file, port);
    setLatency(1500);
    const before = await waitState(node, { 'app-up': 'firing', 'app-fast': 'firing' });
    await node.engine.stop();
    const events = node.events.length;
    // Another port: the client's kept-alive connections to the old one are gone.
    port = await freePort();
    fs.writeFileSync(file, config());
    node = await startNode(file, port);
    const after = await slas(node);
    assert.deepEqual([after['app-up'].state, after['app-up'].since], ['firing', before['app-up'].since]);
    assert.deepEqual([after['app-fast'].state, after['app-fast'].since], ['firing', before['app-fast'].since]);
    assert.ok(events > 0);
    assert.deepEqual(node.events, [], 'no state change: still firing');
    setLatency(30);
    await waitState(node, { 'app-up': 'ok', 'app-fast': 'ok' });
    assert.deepEqual(changes(node, 'app-up'), ['firing→ok!']);
  });
});
