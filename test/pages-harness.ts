/**
 * A real node on loopback with drop-in pages in a temp folder, for the page tests: files
 * are written, changed and removed while it runs.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import type { NodePlugin } from '../src/engine/plugin';
import type { Logger } from '../src/log';
import { silentLogger } from '../src/log';
import { createPagesPlugin } from '../src/pages';
import { registry } from '../src/registry';
import { freePort, tmpDir } from './helpers';
import { probeBlock } from './probe-block';

/** PagesNode is a running node and its page folder. */
export interface PagesNode {
  engine: Engine;
  url: string;
  dir: string;
  /** web is the first page folder (dir/web). */
  web: string;
  write(rel: string, text: string): void;
  remove(rel: string): void;
  stop(): Promise<void>;
}

/** PagesNodeOptions: files of the page folder, the token, more monitor.yaml, the built-in folder (null: none), more plugins. */
export interface PagesNodeOptions {
  files?: Record<string, string>;
  token?: string;
  yaml?: string;
  builtin?: string | null;
  log?: Logger;
  plugins?: NodePlugin[];
  /** blocks replaces the two on-demand probe blocks alpha and beta (YAML list items). */
  blocks?: string;
  /** port to listen on (default: a free one), to start a node again where it was. */
  port?: number;
}

/** writeTree writes files (relative paths) under a folder. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

/** startPagesNode starts a node whose page folder is <tmp>/web with the given files. */
export async function startPagesNode(o: PagesNodeOptions = {}): Promise<PagesNode> {
  const dir = tmpDir('remon-pages-');
  const web = path.join(dir, 'web');
  fs.mkdirSync(web);
  writeTree(web, o.files ?? {});
  const port = o.port ?? (await freePort());
  const text = `node: { name: pagenode, data: ${dir}/data, listen: "127.0.0.1:${port}"${o.token ? `, token: ${o.token}` : ''} }
storage: { kind: memory }
blocks:
${o.blocks ?? '  - { name: alpha, type: probe, mode: on-demand }\n  - { name: beta, type: probe, mode: on-demand }'}
${o.yaml ?? ''}`;
  fs.writeFileSync(path.join(dir, 'monitor.yaml'), text);
  const loaded = loadConfig(path.join(dir, 'monitor.yaml'), { ...registry, text, extraTypes: [probeBlock] });
  const plugins = [...(o.plugins ?? []), createPagesPlugin({ builtin: o.builtin === undefined ? null : o.builtin })];
  const file = path.join(dir, 'monitor.yaml');
  const reload = async () => loadConfig(file, { ...registry, extraTypes: [probeBlock] });
  const engine = new Engine({ ...loaded, log: o.log ?? silentLogger(), plugins, loadConfig: reload });
  await engine.start();
  return {
    engine,
    url: engine.url!,
    dir,
    web,
    write: (rel, t) => writeTree(web, { [rel]: t }),
    remove: (rel) => fs.rmSync(path.join(web, rel), { force: true }),
    stop: () => engine.stop(),
  };
}

/** RawAnswer is an answer to a request sent as written (no URL normalisation). */
export interface RawAnswer {
  status: number;
  type: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** rawRequest sends a request with its path exactly as given (fetch would resolve `..`). */
export function rawRequest(url: string, rawPath: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path: rawPath, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** shownError is the error text an HTML error page shows (its <pre class="page-error">, unescaped). */
export function shownError(html: string): string {
  const m = /<pre class="page-error"[^>]*>([^<]*)<\/pre>/.exec(html);
  if (!m) throw new Error(`no page error in ${html.slice(0, 300)}`);
  return m[1].replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)));
}
