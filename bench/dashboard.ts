/**
 * Dashboard benchmark (issue 13): load to interactive in Chromium. A node as a user runs it
 * (`remon run` in a child process, memory store) with 1,000 blocks of a dropped-in type
 * every 10 s, after every block has run at least twice; then, in headless Chromium (a fresh
 * profile each time, so nothing is cached):
 *
 *   - the overview (GET /, 1,000 rows rendered by the server): the first byte, the table
 *     shown (DOMContentLoaded), the widgets started (remon.js scanned the page), the
 *     sparklines of the rows on screen drawn (fetched in one batch), and the time a filter
 *     takes to narrow the 1,000 rows;
 *   - a page of 100 graphs (a drop-in page using the dashboard's layout and
 *     `<canvas data-remon-chart>`): the graphs on screen drawn with their history and
 *     subscribed live (graphs start as they come near the screen), and every graph drawn
 *     once the page is scrolled to its end.
 *
 * Each figure is the median (and the worst) of TRIALS page loads, measured in the page
 * from its navigation start. Target: interactive ≤ 1 s.
 *
 *   BENCH_ONLY=dashboard npm run bench
 *   BENCH_DASH_BLOCKS=1000 BENCH_DASH_GRAPHS=100 node dist/bench/dashboard.js
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM } from '../test/browser';
import { freePort, stop } from './node';
import { median, table } from './stats';

/* eslint-disable @typescript-eslint/no-explicit-any */
// The functions given to page.evaluate run in the browser; this file compiles without the DOM lib.
declare const document: any;
declare const performance: any;
declare const requestAnimationFrame: any;
declare const Event: any;

const BLOCKS = Number(process.env.BENCH_DASH_BLOCKS ?? 1000);
const GRAPHS = Number(process.env.BENCH_DASH_GRAPHS ?? 100);
const TRIALS = Number(process.env.BENCH_DASH_TRIALS ?? 5);
const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

/** setup writes the node: a block type reporting a wave, BLOCKS blocks of it, and a page of GRAPHS graphs. */
function setup(dir: string, port: number): void {
  fs.mkdirSync(path.join(dir, 'blocks', 'wave'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'blocks', 'wave', 'index.js'),
    "module.exports = { type: 'wave', description: 'a value that moves', schema: { properties: {} },\n" +
    "  create: (o) => ({ run: async () => ({ ok: !o.name.endsWith('7'), message: o.name.endsWith('7') ? 'status 503, expected 200' : '', fields: { total_ms: 50 + 40 * Math.sin(Date.now() / 60000 + o.name.length) } }) }) };\n");
  const lines = [`node: { name: bench, listen: "127.0.0.1:${port}", data: ./data, max_concurrency: 10000, block_dirs: [./blocks], log_level: warn }`, 'storage: { kind: memory }', 'blocks:'];
  for (let i = 0; i < BLOCKS; i++) lines.push(`  - { name: web-${String(i).padStart(4, '0')}, type: wave, every: 10s }`);
  fs.writeFileSync(path.join(dir, 'monitor.yaml'), lines.join('\n') + '\n');
  fs.mkdirSync(path.join(dir, 'web'));
  const charts = Array.from({ length: GRAPHS }, (_, i) => `<div class="panel"><div class="chart"><canvas data-remon-chart="web-${String(i).padStart(4, '0')}.total_ms"></canvas></div></div>`).join('\n');
  fs.writeFileSync(path.join(dir, 'web', 'graphs.html'), `{% layout 'layout.html' %}{% block content %}<h1>${GRAPHS} graphs</h1><div class="grid">\n${charts}\n</div>{% endblock %}\n`);
}

interface Load {
  ttfb: number;
  dcl: number;
  ready: number;
  done: number;
  filter?: number;
  /** Graphs: every graph drawn, the page scrolled through. */
  all?: number;
  bytes: number;
}

/** since is a page's time (ms) from its navigation start, taken in the page. */
const since = (page: Page): Promise<number> => page.evaluate(() => performance.now());

/**
 * recordDrawn makes the page note when each graph or sparkline got its data (data-points
 * above 0, or data-loaded and data-live): a MutationObserver, so that measuring costs the
 * page nothing while it loads.
 */
function recordDrawn(): void {
  const w = globalThis as any;
  w.remonDrawn = new Map();
  const note = (el: any): void => {
    if (w.remonDrawn.has(el)) return;
    const spark = Number(el.getAttribute('data-points')) > 0 && el.hasAttribute('data-remon-spark');
    const chart = el.hasAttribute('data-loaded') && el.getAttribute('data-live') === 'ready';
    if (spark || chart) w.remonDrawn.set(el, performance.now());
  };
  new w.MutationObserver((ms: any[]) => { for (const m of ms) note(m.target); })
    .observe(document, { attributes: true, subtree: true, attributeFilter: ['data-points', 'data-loaded', 'data-live'] });
}

/** drawnOnScreen waits until every graph or sparkline (selector) on screen has its data; the time the last one got it. */
function drawnOnScreen(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => new Promise<number>((resolve, reject) => {
    const w = globalThis as any;
    const shown = [...document.querySelectorAll(sel)].filter((c: any) => { const r = c.getBoundingClientRect(); return r.top < 900 && r.bottom > 0; });
    const end = performance.now() + 30_000;
    const check = (): void => {
      const times = shown.map((c: any) => w.remonDrawn.get(c));
      if (shown.length > 0 && times.every((t: number | undefined) => t !== undefined)) resolve(Math.max(...times));
      else if (performance.now() > end) reject(new Error(`${times.filter((t) => t === undefined).length} of ${shown.length} ${sel} never drawn`));
      else setTimeout(check, 50);
    };
    check();
  }), selector);
}

async function loadOverview(browser: Browser, base: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(recordDrawn);
  try {
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.waitForSelector('html[data-remon-ready]', { state: 'attached' });
    const done = await drawnOnScreen(page, 'canvas[data-remon-spark]');
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      const ready = performance.getEntriesByName('remon:ready')[0];
      return { ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, ready: ready ? ready.startTime : NaN, bytes: n.transferSize };
    });
    // A filter over the 1,000 rows: from the keystroke to the rows hidden.
    const filter = await page.evaluate(() => new Promise<number>((resolve) => {
      const input = document.querySelector('#q');
      const t0 = performance.now();
      input.value = 'status:fail';
      input.dispatchEvent(new Event('input'));
      const check = (): void => {
        if (document.querySelector('#shown').textContent.includes(' of ')) resolve(performance.now() - t0);
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    }));
    return { ...nav, done, filter };
  } finally {
    await context.close();
  }
}

async function loadGraphs(browser: Browser, base: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(recordDrawn);
  try {
    await page.goto(`${base}/graphs`, { waitUntil: 'load' });
    await page.waitForSelector('html[data-remon-ready]', { state: 'attached' });
    // The graphs on screen are drawn with their history and subscribed live.
    const done = await drawnOnScreen(page, 'canvas[data-remon-chart]');
    // Then every graph, the page scrolled through a screen per frame to its end.
    await page.waitForFunction((n) => {
      document.scrollingElement.scrollBy(0, 900);
      return document.querySelectorAll('canvas[data-remon-chart][data-loaded]').length === n;
    }, GRAPHS, { polling: 'raf', timeout: 30_000 });
    const all = await since(page);
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      const ready = performance.getEntriesByName('remon:ready')[0];
      return { ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, ready: ready ? ready.startTime : NaN, bytes: n.transferSize };
    });
    return { ...nav, done, all };
  } finally {
    await context.close();
  }
}

/** benchDashboard prints the table; a machine without Chromium gets a line saying so. */
export async function benchDashboard(): Promise<string> {
  if (!fs.existsSync(CHROMIUM)) return '\n### Dashboard\n\nskipped: chromium is not installed';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-dash-'));
  const port = await freePort();
  setup(dir, port);
  const child = spawn(process.execPath, [MAIN, 'run', path.join(dir, 'monitor.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200) break;
      if (i > 200) throw new Error('the node did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every block has run twice (first runs spread over the first interval).
    await new Promise((r) => setTimeout(r, 21_000));
    await loadOverview(browser, base); // warm up: the node's caches and Chromium's code cache
    await loadGraphs(browser, base);
    const overview: Load[] = [];
    const graphs: Load[] = [];
    for (let t = 0; t < TRIALS; t++) {
      overview.push(await loadOverview(browser, base));
      graphs.push(await loadGraphs(browser, base));
    }
    const row = (what: string, loads: Load[], key: keyof Load): Array<string | number> => {
      const v = loads.map((l) => l[key] as number);
      return [what, median(v), Math.max(...v)];
    };
    const kb = (loads: Load[]): string => `${Math.round(median(loads.map((l) => l.bytes)) / 1024)} kB`;
    return table(`Dashboard in Chromium: ${BLOCKS} blocks; ms from navigation start, median and worst of ${TRIALS} (target: interactive ≤ 1000 ms)`, ['page, moment', 'median ms', 'worst ms'], [
      row(`overview (${kb(overview)}): first byte`, overview, 'ttfb'),
      row('overview: table shown (DOMContentLoaded)', overview, 'dcl'),
      row('overview: widgets started, filter usable', overview, 'ready'),
      row('overview: sparklines on screen drawn', overview, 'done'),
      row(`overview: a filter over ${BLOCKS} rows`, overview, 'filter'),
      row(`${GRAPHS} graphs (${kb(graphs)}): first byte`, graphs, 'ttfb'),
      row(`${GRAPHS} graphs: widgets started`, graphs, 'ready'),
      row(`${GRAPHS} graphs: those on screen drawn with history, live`, graphs, 'done'),
      row(`${GRAPHS} graphs: all drawn, the page scrolled through`, graphs, 'all'),
    ]);
  } finally {
    await browser.close();
    await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchDashboard().then((t) => console.log(t), (err) => {
    console.error(err);
    process.exit(1);
  });
}
