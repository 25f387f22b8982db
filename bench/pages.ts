/**
 * Drop-in pages benchmark (issue 13). Requests per second of a template page against a
 * static file of about the same size, from the same node (`remon run` in a child process),
 * measured with wrk (keep-alive connections): a template with a layout, an include and a
 * loop over 50 rows its script returns; the same without a script; and the static file.
 * Each figure is the median of 3 trials; the sides alternate. Target: the template page
 * ≥ 0.5× the static file.
 *
 *   node dist/bench/pages.js
 *   BENCH_PAGES_SECONDS=5 BENCH_PAGES_CONNECTIONS=32 node dist/bench/pages.js
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, table } from './stats';

const SECONDS = Number(process.env.BENCH_PAGES_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_PAGES_CONNECTIONS ?? 16);
const TRIALS = 3;
const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

const ROWS = Array.from({ length: 50 }, (_, i) => ({ name: `block-${i}`, status: i % 7 ? 'ok' : 'fail', value: i * 1.5 }));

/** The pages: a layout, a nav include, a loop; and a static file the size of the rendered page. */
function writePages(dir: string): void {
  const web = path.join(dir, 'web');
  fs.mkdirSync(path.join(web, 'static'), { recursive: true });
  fs.writeFileSync(path.join(web, 'layout.html'), '<!doctype html><html><head><title>{% block title %}remon{% endblock %}</title></head><body>{% block %}{% endblock %}</body></html>');
  fs.writeFileSync(path.join(web, 'nav.html'), '<nav><a href="/">home</a> <a href="/list">list</a> {{ node.name }}</nav>');
  const body = '{% layout "layout.html" %}{% block title %}list{% endblock %}{% render "nav.html", node: node %}<table>{% for r in rows %}<tr class="{{ r.status }}"><td>{{ r.name }}</td><td>{{ r.value }}</td></tr>{% endfor %}</table>';
  fs.writeFileSync(path.join(web, 'list.html'), body);
  fs.writeFileSync(path.join(web, 'list.js'), `const rows = ${JSON.stringify(ROWS)};\nmodule.exports = { GET: async () => ({ rows }) };`);
  fs.writeFileSync(path.join(web, 'small.html'), '{% layout "layout.html" %}{% render "nav.html", node: node %}<p>{{ page.query.q }} on {{ node.name }}</p>' + '<p>static text of a page, </p>'.repeat(80));
  const rendered = `<!doctype html><html><head><title>list</title></head><body><nav>...</nav><table>${ROWS.map((r) => `<tr class="${r.status}"><td>${r.name}</td><td>${r.value}</td></tr>`).join('')}</table></body></html>`;
  fs.writeFileSync(path.join(web, 'static', 'page.html'), rendered);
  fs.writeFileSync(path.join(web, 'static', 'small.html'), '<p>static text of a page, </p>'.repeat(80));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** wrk runs wrk against a URL and returns its requests per second (and non-2xx answers). */
function wrk(url: string): { rps: number; bad: number } {
  const r = spawnSync('wrk', ['-t', '2', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const bad = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  return { rps, bad };
}

/** benchPages prints the table; a machine without wrk gets a line saying so. */
export async function benchPages(): Promise<string> {
  if (spawnSync('wrk', ['--version']).error) return '\n### Drop-in pages\n\nskipped: wrk is not installed';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-pages-'));
  writePages(dir);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'monitor.yaml'), `node: { name: bench, listen: "127.0.0.1:${port}", data: ./data, log_level: warn }\nstorage: { kind: memory }\nblocks: []\n`);
  const child = spawn(process.execPath, [MAIN, 'run', path.join(dir, 'monitor.yaml')], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200) break;
      if (i > 100) throw new Error('the node did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const sides: Array<[string, string]> = [
      ['static file (/static/page.html)', '/static/page.html'],
      ['template, layout, 50-row loop from its script (/list)', '/list'],
      ['template, layout, 3 outputs (/small)', '/small?q=x'],
    ];
    const sizes = await Promise.all(sides.map(async ([, p]) => (await (await fetch(base + p)).text()).length));
    for (const [, p] of sides) wrk(base + p); // warm up
    const rps: number[][] = sides.map(() => []);
    let bad = 0;
    for (let t = 0; t < TRIALS; t++) {
      for (let i = 0; i < sides.length; i++) {
        const r = wrk(base + sides[i][1]);
        rps[i].push(r.rps);
        bad += r.bad;
      }
    }
    const base0 = median(rps[0]);
    const rows = sides.map(([name], i) => [name, sizes[i], median(rps[i]), median(rps[i]) / base0]);
    return table(`Drop-in pages: requests/s, wrk ${CONNECTIONS} connections, ${SECONDS}s × ${TRIALS} (median; target template ≥ 0.5× static)`, ['answer', 'bytes', 'req/s', '× static'], rows)
      + (bad ? `\n\n${bad} answers were not 2xx: the figures are not valid` : '');
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchPages().then((t) => console.log(t), (err) => {
    console.error(err);
    process.exit(1);
  });
}
