import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { registry } from '../src/registry';
import { silentLogger } from '../src/log';
import { launchChromium } from './browser';
import { freePort, sleep, tmpDir } from './helpers';
import { probeBlock, probeLog, resetProbeLog } from './probe-block';

/**
 * attackerPage is what a page of another origin tries against the node while it is open in
 * the user's browser: every way a page can send a write without reading the answer, and a
 * read. It reports what it could observe in window.report.
 */
function attackerPage(node: string): string {
  return `<!doctype html><html><body>
<form id="f" method="POST" action="${node}/api/blocks/d/run" enctype="text/plain" target="sink"><input name="a" value="b"></form>
<form id="g" method="POST" action="${node}/api/reload" target="sink2"></form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<img src="${node}/hb/job">
<img src="${node}/hb/job/0">
<script>
window.report = { reads: [], done: false };
(async () => {
  const tries = [
    () => fetch('${node}/api/blocks/d/run', { method: 'POST', mode: 'no-cors', body: 'x' }),
    () => fetch('${node}/api/blocks/d/run', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }),
    () => fetch('${node}/api/blocks/d/run', { method: 'POST', mode: 'no-cors' }),
    () => fetch('${node}/api/blocks/d/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    () => fetch('${node}/hb/job', { method: 'POST', mode: 'no-cors', body: 'done' }),
    () => fetch('${node}/hb/job', { mode: 'no-cors' }),
    () => Promise.resolve(navigator.sendBeacon('${node}/api/blocks/d/run', 'x')),
    () => Promise.resolve(navigator.sendBeacon('${node}/hb/job', 'x')),
  ];
  for (const t of tries) { try { await t(); } catch (e) { /* refused */ } }
  document.getElementById('f').submit();
  document.getElementById('g').submit();
  for (const url of ['${node}/api/blocks', '${node}/api/heartbeats', '${node}/metrics']) {
    try { const r = await fetch(url); window.report.reads.push(await r.text()); } catch (e) { window.report.reads.push('refused: ' + e.message); }
  }
  window.report.done = true;
})();
</script></body></html>`;
}

describe('web: a page of another origin in the user\'s browser (real Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  before(async function () { browser = await launchChromium(this); });
  after(async () => { await browser?.close(); });
  beforeEach(resetProbeLog);

  for (const token of [undefined, 'browser-token']) {
    it(`can neither write nor read the node (${token ? 'with' : 'without'} a token)`, async () => {
      const port = await freePort();
      const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}"${token ? `, token: ${token}` : ''} }\nstorage: { kind: memory }\nblocks:\n` +
        '  - { name: d, type: probe, mode: on-demand }\n  - { name: job, type: heartbeat, period: 1h }\n';
      const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger() });
      await e.start();
      const node = `http://127.0.0.1:${port}`;
      // The attacker's page, on another port of the same host (same site, another origin).
      const evilPort = await freePort();
      const evil = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(attackerPage(node)); });
      await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', () => r()));
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${evilPort}/`);
        await page.waitForFunction(() => (globalThis as unknown as { report?: { done: boolean } }).report?.done === true, undefined, { timeout: 20_000 });
        await sleep(500); // the form posts land in their frames
        const report = await page.evaluate(() => (globalThis as unknown as { report: { reads: string[] } }).report);
        assert.equal(probeLog.runs.d, undefined, 'a page of another origin made the block run');
        const hb = e.status().find((b) => b.name === 'job')!;
        assert.equal(hb.status, 'unknown', 'a page of another origin signalled the heartbeat');
        assert.equal(hb.runs, 0);
        assert.equal(report.reads.length, 3);
        for (const r of report.reads) assert.match(r, /^refused: /, `the page read: ${r.slice(0, 200)}`);
        // The same requests from the node's own origin are not refused by the guard: the
        // check is about origins, not about what the request is.
        const own = await browser.newPage();
        await own.goto(`${node}/healthz`);
        const status = await own.evaluate(async (t) => (await fetch('/api/blocks/d/run', { method: 'POST', headers: t ? { authorization: `Bearer ${t}` } : {} })).status, token);
        assert.equal(status, 200);
        assert.equal(probeLog.runs.d, 1);
        await own.close();
      } finally {
        await page.close();
        evil.close();
        await e.stop();
      }
    });
  }
});
