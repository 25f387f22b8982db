import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { alertsPlugin } from '../src/alerts/plugin';
import { createSlaPlugin } from '../src/sla';
import { waitFor } from './helpers';
import { PagesNode, rawRequest, startPagesNode } from './pages-harness';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BUILTIN = path.resolve(__dirname, '..', '..', 'web');

/** cells reads a status page row: the text of each <td> of the row of an SLA, tags stripped. */
function row(html: string, sla: string): string[] | undefined {
  const m = new RegExp(`<tr data-sla="${sla}" data-state="(\\w+)">([\\s\\S]*?)</tr>`).exec(html);
  if (!m) return undefined;
  const cells = [...m[2].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
  return [m[1], ...cells];
}

describe('pages: the status page and badges (no token needed)', function () {
  this.timeout(30_000);
  let n: PagesNode;
  before(async () => {
    n = await startPagesNode({
      builtin: BUILTIN,
      token: 's3cret',
      plugins: [createSlaPlugin({ sampleEveryMs: 50 }), alertsPlugin({ send: async () => {} })],
      blocks: '  - { name: alpha, type: probe, mode: on-demand }\n  - { name: beta, type: probe, mode: on-demand, fail: "connection refused" }',
      yaml: `slas:
  - { name: web-up, test: alpha.up == 1 }
  - { name: db-up, test: beta.up == 1 }
  - { name: hidden, test: alpha.up == 1 }
web:
  status: { title: "Acme <status>", slas: [web-up, db-up] }
`,
    });
    // web-up's stored history: 6 of 8 good in the last 24 h, 0 of 4 from then to 7 d, 4 of 4 from then to 30 d.
    const now = Date.now();
    const ok = (ago: number, value: number) => ({ series: 'sla.web-up.ok', t: now - ago, value, kind: 'gauge' as const });
    n.engine.store.write([
      ...[29, 25, 20, 10].map((d) => ok(d * DAY, 1)),
      ...[6, 5, 4, 3].map((d) => ok(d * DAY, 0)),
      ...[23, 20, 18, 12, 8, 5, 2, 1].map((h, i) => ok(h * HOUR, i < 6 ? 1 : 0)),
    ]);
    await n.engine.ops.invoke('blocks.run', { name: 'beta' }, { authorized: true, via: 'internal' });
    await waitFor(async () => {
      const alerts = (await n.engine.ops.invoke('alerts.list', {}, { authorized: true, via: 'internal' })).value as Array<{ sla: string; state: string }>;
      return alerts.some((a) => a.sla === 'db-up' && a.state === 'firing');
    }, 10_000, 'db-up firing');
  });
  after(() => n.stop());

  it('shows the SLAs of web.status.slas with state, uptime over 24 h / 7 d / 30 d, and incidents; escaped', async () => {
    const res = await fetch(`${n.url}/status`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<title>Acme &lt;status&gt;<\/title>/);
    assert.match(html, /<div class="banner bad" id="headline">Some systems have an outage<\/div>/);
    assert.deepEqual(row(html, 'web-up'), ['unknown', 'web-up', 'No data', '75.00%', '50.00%', '62.50%']);
    const db = row(html, 'db-up')!;
    assert.deepEqual(db.slice(0, 2), ['firing', 'db-up beta.up (0) == 1']);
    assert.deepEqual(db.slice(2), ['Outage', '0%', '0%', '0%']);
    assert.equal(row(html, 'hidden'), undefined, 'an SLA not listed in web.status.slas is not shown');
    assert.match(html, /<li data-sla="db-up">\s*<strong>db-up<\/strong>\s*<span class="pill bad">firing<\/span>/);
    assert.ok(html.indexOf('data-sla="web-up"') < html.indexOf('data-sla="db-up"'), 'in the order of web.status.slas');
  });

  it('status.summary and status.sla answer the same data to RPC', async () => {
    const s = (await n.engine.ops.invoke('status.summary', {}, { authorized: false, via: 'rpc' })).value as { title: string; slas: Array<{ name: string; uptime: unknown }> };
    assert.equal(s.title, 'Acme <status>');
    assert.deepEqual(s.slas.map((x) => x.name), ['web-up', 'db-up']);
    assert.deepEqual(s.slas[0].uptime, { '24h': 0.75, '7d': 0.5, '30d': 0.625 });
    await assert.rejects(n.engine.ops.invoke('status.sla', { name: 'hidden' }, { authorized: false, via: 'rpc' }), { code: 'REMON_ERR_SLA_UNKNOWN', message: 'no SLA named "hidden" is on the status page' });
  });

  const badges: Array<{ name: string; path: string; status: number; text: string; color?: string }> = [
    { name: 'state of a passing-less SLA', path: '/badge/web-up.svg', status: 200, text: 'web-up: no data', color: '#8c959f' },
    { name: 'state of a failing SLA', path: '/badge/db-up.svg', status: 200, text: 'db-up: failing', color: '#cf222e' },
    { name: 'uptime over 24 h', path: '/badge/web-up.svg?uptime=24h', status: 200, text: 'web-up 24h: 75.00%', color: '#cf222e' },
    { name: 'uptime over 30 d', path: '/badge/web-up.svg?uptime=30d', status: 200, text: 'web-up 30d: 62.50%' },
    { name: 'an SLA not on the status page', path: '/badge/hidden.svg', status: 404, text: 'hidden: unknown SLA' },
    { name: 'an SLA that does not exist', path: '/badge/nope.svg', status: 404, text: 'nope: unknown SLA' },
    { name: 'a bad window', path: '/badge/web-up.svg?uptime=1y', status: 400, text: 'web-up: uptime=24h|7d|30d' },
    { name: 'not a badge name', path: '/badge/web-up.png', status: 404, text: 'badge: not found' },
  ];
  for (const b of badges) {
    it(`badge: ${b.name}`, async () => {
      const res = await fetch(`${n.url}${b.path}`);
      assert.equal(res.status, b.status);
      assert.equal(res.headers.get('content-type'), 'image/svg+xml');
      const svg = await res.text();
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20" role="img"/);
      assert.equal(/<title>([^<]*)<\/title>/.exec(svg)![1], b.text);
      if (b.color) assert.ok(svg.includes(`fill="${b.color}"`), svg);
    });
  }

  it('another site may embed a badge (an image), but not read the status page by script', async () => {
    const img = await rawRequest(n.url, '/badge/db-up.svg', { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' } });
    assert.equal(img.status, 200);
    const page = await rawRequest(n.url, '/status', { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors', origin: 'http://evil.example' } });
    assert.equal(page.status, 403);
  });
});
