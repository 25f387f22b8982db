import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { freePort, sleep, tmpDir, waitFor } from './helpers';
import { RemonNode } from './remon-node';

const DEMO = path.resolve(__dirname, '..', '..', 'examples', 'dropstar');
const SHOTS = path.resolve(__dirname, '..', '..', 'test-output', 'screenshots', 'dropstar');

/** copyDemo copies examples/dropstar to a temp folder and points it at a free port. */
async function copyDemo(): Promise<{ file: string; url: string }> {
  const dir = tmpDir('remon-dropstar-');
  fs.cpSync(DEMO, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}data`) });
  const port = await freePort();
  const file = path.join(dir, 'monitor.yaml');
  const text = fs.readFileSync(file, 'utf8').replace('listen: 127.0.0.1:2001', `listen: 127.0.0.1:${port}`);
  assert.ok(text.includes(`127.0.0.1:${port}`), 'the demo listens where the test says');
  fs.writeFileSync(file, text);
  return { file, url: `http://127.0.0.1:${port}` };
}

/** points is how many points the chart.js graph on a canvas holds, summed over its datasets. */
function points(page: Page, canvas: string): Promise<number> {
  return page.evaluate(`(() => {
    const c = document.querySelector(${JSON.stringify(canvas)});
    const chart = c && window.Chart && window.Chart.getChart(c);
    return chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : -1;
  })()`);
}

/** inBrowser evaluates an expression of the page (browser code kept as text: the tests compile without DOM types). */
function inBrowser<T>(page: Page, expr: string): Promise<T> {
  return page.evaluate(expr) as Promise<T>;
}

describe('examples/dropstar: each tab of the demo in a real browser', function () {
  this.timeout(120_000);
  let browser: Browser;
  let node: RemonNode;
  let url: string;
  let page: Page;
  const errors: string[] = [];

  before(async function () {
    browser = await launchChromium(this);
    const demo = await copyDemo();
    url = demo.url;
    node = await RemonNode.start(demo.file, url);
    fs.mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await node?.kill('SIGTERM');
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterEach(async function () {
    await page.screenshot({ path: path.join(SHOTS, `${this.currentTest!.title.split(':')[0].replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
    await page.close();
    assert.deepEqual(errors.splice(0), [], 'no script error on the page');
  });

  it('cpu: the graph of the shell block grows as samples arrive, and the last value is shown', async () => {
    await page.goto(`${url}/cpu`);
    const before = await waitFor(async () => { const n = await points(page, '#cpu-chart'); return n >= 0 ? n : undefined; }, 10_000, 'the CPU chart');
    assert.ok(before !== undefined);
    await waitFor(async () => (await points(page, '#cpu-chart')) > before, 15_000, 'a new CPU point (the block runs every 5 s)');
    const now = await page.textContent('#cpu-now');
    assert.match(now ?? '', /\d/, `the last value is shown: ${now}`);
  });

  it('sysinfo: a table of what shell commands say about the machine', async () => {
    await page.goto(`${url}/sysinfo`);
    const rows = await inBrowser<Array<[string, string]>>(page, `[...document.querySelectorAll('#sysinfo tbody tr')].map((tr) => [tr.querySelector('th').textContent.trim(), tr.querySelector('td').textContent.trim()])`);
    const byName = Object.fromEntries(rows) as Record<string, string>;
    assert.match(byName.Kernel, /^Linux /);
    assert.match(byName.Memory, /Mem:/);
    assert.match(byName['Disk /'], /Filesystem/);
    assert.ok(Number(byName.CPUs) >= 1);
  });

  it('log: the tail of the log, newest first, coloured by level, refreshed every 5 s', async () => {
    await page.goto(`${url}/log`);
    await waitFor(async () => (await page.$$('#log tbody tr')).length >= 2, 10_000, 'two log lines');
    const first = await inBrowser<Array<{ at: string; level: string; cls: string }>>(page, `[...document.querySelectorAll('#log tbody tr')].map((tr) => ({ at: tr.children[0].textContent, level: tr.children[1].textContent, cls: tr.className }))`);
    for (const r of first) assert.equal(r.cls, `lvl-${r.level}`);
    const times = first.map((r) => r.at);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    const colours = await inBrowser<string[]>(page, `[...new Set([...document.querySelectorAll('#log tbody tr')].map((tr) => tr.className + '=' + getComputedStyle(tr).color))]`);
    const errorColour = colours.find((c) => c.startsWith('lvl-ERROR='));
    const infoColour = colours.find((c) => c.startsWith('lvl-INFO='));
    if (errorColour && infoColour) assert.notEqual(errorColour.split('=')[1], infoColour.split('=')[1], 'errors stand out');
    const top = first[0].at;
    await waitFor(async () => (await page.textContent('#log tbody tr td')) !== top, 12_000, 'a newer line on top without a reload');
  });

  it('requests: the slider keeps its position over a reload, the lock stops the counter, a graph of requests per second', async () => {
    await page.goto(`${url}/requests`);
    await inBrowser(page, `(() => { const el = document.querySelector('#delay'); el.value = '50'; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); })()`);
    await waitFor(async () => {
      const r = await fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'state.get', params: { bucket: 'dropstar', key: 'delay_ms' } }) });
      return ((await r.json()) as { result?: { value?: unknown } }).result?.value === 50;
    }, 5000, 'the delay kept in shared state');
    await page.reload();
    assert.equal(await page.inputValue('#delay'), '50', 'the slider is where it was left');
    assert.equal(await page.textContent('#delay-text'), '50');

    const counter = async () => Number(await page.textContent('#total'));
    await waitFor(async () => (await counter()) > 0, 8000, 'requests counted');
    await page.click('#stop');
    await waitFor(async () => (await page.textContent('#state'))?.startsWith('stopped'), 5000, 'stopped');
    await sleep(1500); // a run that started before the lock was taken finishes
    const held = await counter();
    await sleep(2500);
    await waitFor(async () => (await counter()) === held, 3000, 'the counter shown');
    assert.equal(await counter(), held, 'no request while the lock is held');
    await page.click('#start');
    await waitFor(async () => (await counter()) > held, 8000, 'requests again once the lock is released');
    await waitFor(async () => (await points(page, '#rps-chart')) > 0, 15_000, 'points on the requests-per-second graph');
  });

  it('wall: messages go into a shared queue that keeps the last 25, newest first', async () => {
    await page.goto(`${url}/wall`);
    for (let i = 1; i <= 27; i++) {
      await page.fill('#post input[name=text]', `message ${i}`);
      await page.click('#post button');
      await waitFor(async () => (await page.textContent('#wall li')) ?.endsWith(`message ${i}`), 5000, `message ${i} on the wall`);
    }
    const items = await inBrowser<string[]>(page, `[...document.querySelectorAll('#wall li')].map((li) => li.textContent)`);
    assert.equal(items.length, 25);
    assert.ok(items[0].endsWith('message 27') && items[24].endsWith('message 3'), `${items[0]} … ${items[24]}`);
    const other = await browser.newPage();
    await other.goto(`${url}/wall`);
    await waitFor(async () => (await other.$$('#wall li')).length === 25, 5000, 'another browser sees the same wall');
    await other.close();
  });
});
