import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/types';
import type { NodePlugin, PluginHost } from '../engine/plugin';
import { PageEngine } from './engine';
import { pagesRoute } from './route';
import { buildWeb, WebConfig } from './section';
import { StaticFiles } from './static';
import { statusOps } from './status';

/** packageRoot is the folder of remon's package.json (the built-in pages are its web/ folder). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === 'remon') return dir;
    } catch {
      // not here: keep walking up
    }
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..');
    dir = up;
  }
}

/** BUILTIN_PAGES is the built-in pages' folder, searched after the user's. */
export const BUILTIN_PAGES = path.join(packageRoot(), 'web');

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** PagesPluginOptions: for tests, the built-in folder (default <package>/web; null: none). */
export interface PagesPluginOptions {
  builtin?: string | null;
}

/**
 * createPagesPlugin makes the web UI's drop-in pages of one node (`web:`, src/pages): the
 * page route (mounted after every other route), the pages' RPC methods as a source of the
 * operations table, the status page's operations (status.summary, status.sla), and a
 * reload that switches the page folders.
 */
export function createPagesPlugin(o: PagesPluginOptions = {}): NodePlugin & { engine?: PageEngine } {
  const builtin = o.builtin === undefined ? BUILTIN_PAGES : o.builtin;
  const foldersOf = (web: WebConfig | undefined, dir: string): string[] => {
    const w = web ?? buildWeb(undefined, dir);
    return builtin === null ? [...w.pages] : [...w.pages, builtin];
  };
  const plugin: NodePlugin & { engine?: PageEngine } = {
    name: 'pages',
    install(host: PluginHost): void {
      let nodeName = host.config.node.name;
      const engine = new PageEngine({
        ops: host.ops,
        shared: host.shared,
        log: host.log.child({ subsystem: 'pages' }),
        nodeName,
        folders: foldersOf(host.config.web, host.config.dir),
      });
      plugin.engine = engine;
      host.ops.add(...statusOps(host.ops));
      host.ops.addSource(engine);
      const statics = new StaticFiles(() => engine.folders);
      host.routes.push(pagesRoute({ engine: () => engine, statics, nodeName: () => nodeName, version: version() }));
      plugin.reload = (config: Config): void => {
        nodeName = config.node.name;
        engine.setFolders(foldersOf(config.web, config.dir));
      };
    },
  };
  return plugin;
}
