import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { alertsPlugin } from '../src/alerts/plugin';
import { loadConfig } from '../src/config/load';
import { createDerivePlugin } from '../src/derive';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { createPagesPlugin } from '../src/pages';
import { registry } from '../src/registry';
import { rpcPlugin } from '../src/rpc/plugin';
import { createSlaPlugin } from '../src/sla';
import { launchChromium } from './browser';
import { freePort, sleep, tmpDir, waitFor } from './helpers';
import { probeBlock, probeLog, resetProbeLog } from './probe-block';

/* eslint-disable @typescript-eslint/no-explicit-any */
// The functions given to page.evaluate run in the browser; this file compiles without the DOM lib.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;

/** The fixture's blocks, as blocks.list orders them (config order). */
const FIXTURE = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'web', 'dashboard.yaml');
/** A page folder of the user's: pages made with the dashboard's layout and widgets. */
const USER_PAGES = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'web', 'pages');
const BLOCKS = ['api', 'broken', 'slow', 'steady', 'idle', 'backup', 'hello'];
const SHOTS = path.resolve('test-output', 'screenshots');
const PAGES = ['/', '/block/slow', '/alerts', '/slas', '/heartbeats', '/shared'];

interface DashNode {
  engine: Engine;
  url: string;
  browser: Browser;
}

/** startNode runs the fixture config in this process on a loopback port (a free one unless given), with node.token when given. */
async function startNode(token?: string, port?: number): Promise<Omit<DashNode, 'browser'>> {
  port ??= await freePort();
  const node = `node: { name: dash, data: ${tmpDir()}, listen: "127.0.0.1:${port}"${token ? `, token: ${token}` : ''} }\n`;
  const text = `${node}web: { pages: [${JSON.stringify(USER_PAGES)}] }\n${fs.readFileSync(FIXTURE, 'utf8')}`;
  // The node's subsystems, made for this node (a plugin instance serves one node).
  const plugins = [createDerivePlugin(), createSlaPlugin(), alertsPlugin(), rpcPlugin(), createPagesPlugin()];
  const engine = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger(), plugins });
  await engine.start();
  return { engine, url: `http://127.0.0.1:${port}` };
}

/** open opens a page that records the errors its scripts throw or log, for the test to assert none. */
async function open(browser: Browser, url: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(url);
  return { page, errors };
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** useNode starts Chromium and the fixture node before the tests of a describe block, and stops both after. */
function useNode(token?: string): DashNode {
  const n = {} as DashNode;
  before(async function () {
    n.browser = await launchChromium(this);
    resetProbeLog();
    Object.assign(n, await startNode(token));
  });
  after(async () => {
    await n.browser?.close();
    await n.engine?.stop();
  });
  return n;
}

/** visibleBlocks lists the block names of the overview's rows that are shown. */
const visibleBlocks = (page: Page): Promise<string[]> =>
  page.$$eval('#blocks [data-block]', (rows) => rows.filter((r: any) => !r.hidden).map((r) => r.getAttribute('data-block')!));

describe('web: the dashboard in a real browser (Chromium)', function () {
  this.timeout(60_000);
  const n = useNode();
  // Every interval block has run, and the SLA over slow.value has fired.
  before(() => waitFor(() => n.engine.status().filter((b) => b.runs > 0).length >= 3, 10_000, 'the interval blocks to run'));

  it('lists the fixture\'s blocks with status, last value, last error and a sparkline', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/`);
    try {
      assert.deepEqual(await page.$$eval('#blocks [data-block]', (rows) => rows.map((r) => r.getAttribute('data-block'))), BLOCKS);
      const row = (name: string) => page.$eval(`[data-block="${name}"]`, (r) => ({
        status: r.querySelector('[data-cell=status]')!.textContent,
        value: r.querySelector('[data-cell=value] .v')!.textContent,
        field: r.querySelector('[data-cell=value]')!.getAttribute('data-field'),
        error: r.querySelector('[data-cell=error]')!.textContent,
      }));
      assert.deepEqual(await row('broken'), { status: 'fail', value: '1', field: 'value', error: 'status 503, expected 200' });
      assert.deepEqual(await row('steady'), { status: 'ok', value: '12.5', field: 'value', error: '' });
      assert.deepEqual(await row('idle'), { status: 'unknown', value: '', field: '', error: '' });
      // The SLAs are at the top, the failing one first; its alert can be acknowledged from here.
      assert.deepEqual(await page.$$eval('#attention .chip', (cs) => cs.map((c) => [c.querySelector('.badge')!.textContent, c.getAttribute('data-sla')])), [['firing', 'slow-fast'], ['ok', 'steady-ok']]);
      assert.equal(await page.locator('#attention tr[data-alert] button', { hasText: 'Ack' }).count(), 1);
      // Sparklines are fetched for the rows on screen, and drawn.
      await page.waitForFunction(() => Number(document.querySelector('[data-block="steady"] canvas')?.getAttribute('data-points')) > 0, undefined, { timeout: 5000 });
      // Rows follow the block results live: steady's "last run" moves without a reload.
      const before = await page.$eval('[data-block="steady"] [data-cell=last] time', (t) => t.getAttribute('datetime'));
      await page.waitForFunction((b) => document.querySelector('[data-block="steady"] [data-cell=last] time')!.getAttribute('datetime') !== b, before, { timeout: 5000 });
      await shot(page, 'index');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('filter and search narrow the table', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/`);
    try {
      const scenarios: Array<[string, string[]]> = [
        ['status:fail', ['broken']],
        ['slo', ['slow']],
        ['type:heartbeat', ['backup']],
        ['status:ok s', ['slow', 'steady']],
        ['type:shell', ['hello']],
        ['503', ['broken']],
        ['nothing-like-this', []],
        ['', BLOCKS],
      ];
      for (const [q, want] of scenarios) {
        await page.fill('#q', q);
        // The filter applies within a moment of typing; a wrong one shows in the assertion below.
        await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('#blocks [data-block]:not([hidden])')].map((r: any) => r.getAttribute('data-block'))) === w, JSON.stringify(want), { timeout: 2000 }).catch(() => undefined);
        assert.deepEqual(await visibleBlocks(page), want, `filter "${q}"`);
        assert.equal(await page.textContent('#shown'), q ? `${want.length} of ${BLOCKS.length}` : `${BLOCKS.length}`);
      }
      // The buttons set the filter; the query string keeps it for a reload.
      await page.click('button[data-remon-filter-set="status:fail"]');
      assert.deepEqual(await visibleBlocks(page), ['broken']);
      assert.equal(await page.getAttribute('button[data-remon-filter-set="status:fail"]', 'aria-pressed'), 'true');
      assert.match(page.url(), /\?q=status%3Afail$/);
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll('#blocks [data-block]:not([hidden])').length === 1);
      assert.equal(await page.inputValue('#q'), 'status:fail');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('a graph on a block page gets a new point within 2 s of a sample', async () => {
    // api runs on demand: one run gives it its series (a block that never ran has none to draw).
    await n.engine.runNow('api');
    const { page, errors } = await open(n.browser, `${n.url}/block/api`);
    try {
      const chart = 'canvas[data-remon-chart^="api.value"]';
      await page.waitForSelector(`${chart}[data-loaded][data-live="ready"]`, { timeout: 5000 });
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const result = await n.engine.runNow('api');
        await page.waitForFunction(([sel, t]) => Number(document.querySelector(sel as string)?.getAttribute('data-last-t')) >= (t as number), [chart, result.startedAt] as const, { timeout: 2000 });
        assert.ok(Date.now() - started < 2000, `the point came ${Date.now() - started} ms after the sample`);
      }
      // The run before the page opened (history) and the three since (live); the rest of the hour is gaps.
      assert.equal(await page.$eval(chart, (c) => (c as any).remonChart.chart.data.datasets[0].data.filter((p: any) => p.y !== null).length), 4);
      // Ranges refetch at their step.
      await page.click('button[data-remon-range="1d"]');
      await page.waitForFunction((sel) => document.querySelector(sel)!.getAttribute('data-range') === '1d', chart);
      assert.match(page.url(), /range=1d/);
      await shot(page, 'block-api');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('a block page of an unknown block is a 404 that says so; /block alone goes to the overview', async () => {
    const res = await fetch(`${n.url}/block/nope`);
    assert.equal(res.status, 404);
    assert.match(await res.text(), /no block is named &#34;nope&#34;/);
    const bare = await fetch(`${n.url}/block`, { redirect: 'manual' });
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.get('location'), '/');
  });

  it('draws derived series and SLA thresholds on the graph of their inputs, and lists the SLAs over them', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/block/slow`);
    try {
      const chart = await page.waitForSelector('canvas[data-remon-chart*="slow.value"][data-loaded]', { timeout: 5000 });
      assert.equal(await chart.getAttribute('data-remon-chart'), 'slow.value,slow.avg5');
      assert.deepEqual(JSON.parse((await chart.getAttribute('data-thresholds'))!), [{ value: 200, label: 'slow-fast: slow.value < 200', series: 'slow.value' }]);
      const labels = await chart.evaluate((c) => (c as any).remonChart.chart.data.datasets.map((d: any) => d.label));
      assert.deepEqual(labels, ['slow.value', 'slow.avg5', 'slow-fast: slow.value < 200']);
      assert.match((await page.textContent('#state'))!, /slow-fast\s*firing\s*slow\.value \(250\) < 200/);
      await shot(page, 'block-slow');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('ack on a firing alert makes it acknowledged, and the overview follows live', async () => {
    const overview = await open(n.browser, `${n.url}/`);
    await overview.page.waitForSelector('#attention [data-alert] .badge.firing');
    const { page, errors } = await open(n.browser, `${n.url}/alerts`);
    try {
      const firing = await page.waitForSelector('article.alert[data-state="firing"]', { timeout: 5000 });
      const id = (await firing.getAttribute('data-alert'))!;
      assert.match((await firing.textContent())!, /slow-fast/);
      await shot(page, 'alerts-firing');
      await page.click(`article[data-alert="${id}"] button:has-text("Acknowledge")`);
      await page.waitForSelector(`article[data-alert="${id}"][data-state="acknowledged"]`, { timeout: 3000 });
      const res = await fetch(`${n.url}/api/alerts/${id}`);
      const alert = (await res.json()) as { state: string; acknowledgedBy: string };
      assert.deepEqual([alert.state, alert.acknowledgedBy], ['acknowledged', 'dashboard']);
      assert.match((await page.textContent(`article[data-alert="${id}"]`))!, /Acknowledged by dashboard/);
      assert.equal(await page.locator(`article[data-alert="${id}"] button:has-text("Acknowledge")`).count(), 0);
      await shot(page, 'alerts');
      // The overview open in another tab re-rendered its alerts on the alert.state event.
      await overview.page.waitForSelector(`#attention [data-alert="${id}"] .badge.acknowledged`, { timeout: 3000 });
      assert.equal(await overview.page.locator(`#attention [data-alert="${id}"] button`).count(), 0);
      assert.deepEqual(errors, []);
      assert.deepEqual(overview.errors, []);
    } finally {
      await page.close();
      await overview.page.close();
    }
  });

  it('silences an alert\'s SLA for a while, and ends the silence', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/alerts`);
    page.on('dialog', (d) => void d.accept());
    try {
      const form = page.locator('article.alert form[data-remon-call="silences.create"]').first();
      await form.locator('select[name=for]').selectOption('4h');
      await form.locator('input[name=comment]').fill('deploy <b>now</b>');
      await form.locator('button[type=submit]').click();
      const row = page.locator('#alerts tr', { hasText: 'sla=slow-fast' });
      await row.waitFor({ timeout: 3000 });
      assert.match((await row.textContent())!, /deploy <b>now<\/b> \(dashboard\)[\s\S]*active/);
      assert.match((await row.locator('[data-label=until] time').textContent())!, /^in (4h|240m)$/);
      const silences = (await (await fetch(`${n.url}/api/silences`)).json()) as Array<{ comment: string; active: boolean; by: string }>;
      assert.deepEqual(silences.map((x) => [x.comment, x.active, x.by]), [['deploy <b>now</b>', true, 'dashboard']]);
      await row.locator('button:has-text("End")').click();
      await page.waitForFunction(() => /ended/.test([...document.querySelectorAll('#alerts tr')].find((r: any) => r.textContent.includes('sla=slow-fast'))?.textContent ?? ''), undefined, { timeout: 3000 });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('shows the last raw output as text, and the heartbeats with their last body', async () => {
    await n.engine.runNow('hello');
    const res = await fetch(`${n.url}/hb/backup`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'backup done: 12 files <ok>' });
    assert.equal(res.status, 200);
    const { page, errors } = await open(n.browser, `${n.url}/block/hello`);
    try {
      assert.equal(await page.textContent('#output'), '3 <b>bold</b> & done');
      assert.equal(await page.locator('#output b').count(), 0);
      await page.goto(`${n.url}/heartbeats`);
      const row = page.locator('tr[data-heartbeat="backup"]');
      assert.equal(await row.getAttribute('data-state'), 'up');
      assert.equal(await row.locator('pre').textContent(), 'backup done: 12 files <ok>');
      assert.match((await row.locator('[data-label="last signal"]').textContent())!, /(now|\ds ago)\s+success/);
      assert.match((await row.locator('[data-label="next deadline"]').textContent())!, /in (59|60)m/);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('browses shared state, counters and queues', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/shared`);
    try {
      const failures = Number(await page.textContent('tr[data-counter="broken_failures"] td.num'));
      assert.ok(failures >= 1, `broken_failures is ${failures}`);
      await page.click('a[href="/shared?bucket=status"]');
      await page.waitForURL(/\/shared\?bucket=status$/);
      assert.deepEqual(await page.$$eval('#state-entries tr', (trs) => trs.map((t) => [t.querySelector('.main')!.textContent, t.querySelector('[data-label=value]')!.textContent])), [['broken_last', 'status 503, expected 200']]);
      await page.click('a[href="/shared?queue=incidents"]');
      await page.waitForURL(/\/shared\?queue=incidents$/);
      const messages = await page.$$eval('#shared ol li', (lis) => lis.map((l) => JSON.parse(l.textContent!)));
      assert.ok(messages.length >= 1 && messages.length <= 5, `${messages.length} messages`);
      assert.equal(messages[0].block, 'broken');
      await shot(page, 'shared');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('widgets on a page of the user\'s: last value, RPC refills (text, table, list), a live graph; values as text', async () => {
    const markup = '<img src=x onerror="window.owned=1">';
    const set = await fetch(`${n.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'state.set', params: { bucket: 'notes', key: 'motd', value: markup } }) });
    assert.equal(set.status, 200);
    const { page, errors } = await open(n.browser, `${n.url}/mine`);
    try {
      assert.equal(await page.locator('nav a[aria-current]').count(), 0, 'a page of the user\'s is none of the nav\'s');
      await page.waitForFunction(() => document.querySelector('#last').textContent === '12.5');
      await page.waitForSelector('#counters td');
      const counters = await page.$$eval('#counters tbody tr', (trs) => trs.map((t) => [...t.querySelectorAll('td')].map((td: any) => td.textContent)));
      assert.equal(counters[0][0], 'broken_failures');
      // Refilled every second: the counter grows as broken keeps failing.
      const first = Number(counters[0][1]);
      await page.waitForFunction((v) => Number(document.querySelector('#counters tbody td:nth-child(2)').textContent) > v, first, { timeout: 4000 });
      assert.deepEqual(await page.$$eval('#incidents li', (lis) => [...new Set(lis.map((l) => l.textContent))]), ['broken']);
      assert.deepEqual(await page.$$eval('#note tbody tr', (trs) => trs.map((t) => [...t.querySelectorAll('td')].map((td: any) => td.textContent))), [['bucket', 'notes'], ['key', 'motd'], ['exists', 'true'], ['value', markup]]);
      assert.equal(await page.locator('#note img').count(), 0);
      assert.equal(await page.evaluate(() => window.owned), undefined);
      assert.equal(JSON.parse((await page.textContent('#info'))!).kind, 'memory');
      // The graph: both series, slow.value against the right axis; a new sample of each lands live.
      const chart = await page.waitForSelector('#chart[data-loaded][data-live="ready"]');
      assert.deepEqual(await chart.evaluate((c: any) => c.remonChart.chart.data.datasets.map((d: any) => [d.label, d.yAxisID])), [['steady.value', 'y'], ['slow.value', 'y1']]);
      const t = Number(await chart.getAttribute('data-last-t') ?? 0);
      await page.waitForFunction((t0) => Number(document.querySelector('#chart').getAttribute('data-last-t')) > t0, t, { timeout: 3000 });
      await shot(page, 'user-page');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('a page that loads only remon.js gets the widgets too', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/bare`);
    try {
      await page.waitForFunction(() => document.querySelector('#last').textContent === '12.5');
      await page.waitForFunction(() => document.querySelector('#info').textContent.includes('"kind":"memory"'));
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  for (const p of [...PAGES, '/mine']) {
    it(`${p} fits a phone (375 px) without horizontal scroll`, async () => {
      const { page, errors } = await open(n.browser, `${n.url}${p}`, 375);
      try {
        await page.waitForSelector('html[data-remon-ready]', { state: 'attached', timeout: 5000 });
        const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }));
        assert.ok(scroll <= width, `${p}: the page is ${scroll} px wide on a ${width} px screen`);
        await shot(page, `phone${p === '/' ? '-index' : p.replace(/\//g, '-')}`);
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    });
  }

  it('screenshots the other pages', async () => {
    for (const p of ['/slas', '/heartbeats']) {
      const { page, errors } = await open(n.browser, `${n.url}${p}`);
      try {
        await page.waitForSelector('html[data-remon-ready]', { state: 'attached', timeout: 5000 });
        await shot(page, p.slice(1));
        assert.deepEqual(errors, [], p);
      } finally {
        await page.close();
      }
    }
  });
});

describe('web: the dashboard with node.token (Chromium)', function () {
  this.timeout(60_000);
  const n = useNode('dash-secret');

  it('asks for the token once, then the write succeeds', async () => {
    const { page, errors } = await open(n.browser, `${n.url}/block/api`);
    try {
      await page.evaluate(() => {
        const w = window as unknown as { dialogs: number };
        w.dialogs = 0;
        new MutationObserver((ms: any[]) => ms.forEach((m) => m.addedNodes.forEach((x: any) => { if (x.matches?.('dialog.remon-login')) w.dialogs++; }))).observe(document.body, { childList: true });
      });
      // A block that never ran: the graphs of what every run makes, waiting for the first.
      await page.waitForSelector('canvas[data-remon-chart="api.duration_ms"][data-loaded][data-live="ready"]', { timeout: 5000 });
      await page.click('button:has-text("Run now")');
      const dialog = await page.waitForSelector('dialog.remon-login[open]', { timeout: 3000 });
      assert.equal(probeLog.runs.api, undefined, 'the write ran without the token');
      await shot(page, 'token-dialog');
      // A wrong token is said so, and the dialog stays.
      await dialog.$eval('input', (i: any) => { i.value = 'wrong'; });
      await page.click('dialog.remon-login button[type=submit]');
      await page.waitForFunction(() => document.querySelector('.remon-login-error')?.textContent === 'Wrong token; try again.');
      await page.fill('dialog.remon-login input', 'dash-secret');
      await page.click('dialog.remon-login button[type=submit]');
      await page.waitForFunction(() => /^ran in .* ms: ok$/.test(document.querySelector('#run-result')?.textContent ?? ''), undefined, { timeout: 3000 });
      assert.equal(probeLog.runs.api, 1);
      // The run's sample reached the graph, live.
      await page.waitForFunction(() => Number(document.querySelector('canvas[data-remon-chart="api.duration_ms"]').getAttribute('data-points')) === 1, undefined, { timeout: 2000 });
      // The second write goes through without asking: the browser holds the session cookie.
      await page.click('button:has-text("Run now")');
      await waitFor(() => probeLog.runs.api === 2, 3000, 'the second run');
      assert.equal(await page.evaluate(() => (window as unknown as { dialogs: number }).dialogs), 1);
      assert.equal(await page.locator('dialog.remon-login').count(), 0);
      assert.deepEqual(await page.evaluate(async () => (await fetch('/api/session')).json()), { token_required: true, authorized: true });
      // 401s logged by the browser for the refused call are expected; nothing else.
      assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
    } finally {
      await page.close();
    }
  });

  it('a cancelled dialog leaves the write undone and says why', async () => {
    const { page } = await open(n.browser, `${n.url}/block/api`);
    try {
      const before = probeLog.runs.api ?? 0;
      await page.click('button:has-text("Run now")');
      await page.waitForSelector('dialog.remon-login[open]', { timeout: 3000 });
      await page.click('dialog.remon-login button:has-text("Cancel")');
      await page.waitForSelector('.remon-toast.error', { timeout: 3000 });
      assert.match((await page.textContent('.remon-toast.error'))!, /^blocks\.run: missing or wrong bearer token/);
      assert.equal(probeLog.runs.api ?? 0, before);
    } finally {
      await page.close();
    }
  });
});

describe('web: the dashboard across a node restart (Chromium)', function () {
  this.timeout(60_000);
  const n = useNode();

  it('the page reconnects, subscribes again and draws the samples of the restarted node', async () => {
    await n.engine.runNow('api');
    const { page, errors } = await open(n.browser, `${n.url}/block/api`);
    try {
      const chart = 'canvas[data-remon-chart^="api.value"]';
      await page.waitForSelector(`${chart}[data-loaded][data-live="ready"]`, { timeout: 5000 });
      await n.engine.stop();
      await page.waitForSelector('html[data-remon-live="closed"]', { state: 'attached', timeout: 5000 });
      // The same address, a new node (memory store: no history); the page is not reloaded.
      Object.assign(n, await startNode(undefined, Number(new URL(n.url).port)));
      await page.waitForSelector('html[data-remon-live="open"]', { state: 'attached', timeout: 10_000 });
      // A run a moment after the reconnection may land before the subscription is renewed: run until one is drawn.
      await waitFor(async () => {
        const r = await n.engine.runNow('api');
        await sleep(200);
        return page.$eval(chart, (c, t) => Number(c.getAttribute('data-last-t')) >= t, r.startedAt);
      }, 10_000, 'a sample of the restarted node on the graph');
      // Errors the browser logged while the node was down (the refused reconnections) are expected.
      assert.deepEqual(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e)), []);
    } finally {
      await page.close();
    }
  });
});
