import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Liquid, Template } from 'liquidjs';
import { createError, errorMessage } from '../errors';
import type { Logger } from '../log';
import type { Operation } from '../ops/operation';
import type { OpSource, OpTable } from '../ops/table';
import type { Shared } from '../shared/shared';
import { pageApi, PageApiParts } from './api';
import { FileHit, PageFolders, StatCache } from './files';
import { createLiquid } from './liquid';
import { loadPageScript, PageModule } from './script';

/** PAGE_NAME is what a page's name looks like (its files are NAME.html, NAME.js, NAME.ts). */
export const PAGE_NAME = /^[A-Za-z0-9_-]+$/;
const SCRIPT_EXTS = ['.js', '.ts'];

/** Page is a page found in the folders: its name, the folder that holds it, and its files there. */
export interface Page {
  name: string;
  folder: string;
  template?: FileHit;
  script?: FileHit;
}

/** PageEngineOptions: the parts pages reach, and the folders (the user's, then the built-in one). */
export interface PageEngineOptions {
  ops: OpTable;
  shared: Shared;
  log: Logger;
  nodeName: string;
  folders: readonly string[];
}

type Loaded<T> = { value?: T; error?: Error };

/**
 * PageEngine finds pages in the page folders and keeps what it made of their files
 * (parsed templates, loaded scripts, their RPC methods) while the files are unchanged;
 * a new, changed or removed file takes effect on the next request. A page's failure
 * (template syntax, a script that does not load, an RPC name taken) stays that page's.
 */
export class PageEngine implements OpSource {
  folders!: PageFolders;
  liquid!: Liquid;
  private templates = new StatCache<Loaded<Template[]>>();
  private scripts = new StatCache<Loaded<PageModule>>();
  /** The RPC methods of the pages at the last scan, by method name. */
  private methods = new Map<string, { page: string; op: Operation<any, unknown> }>();
  private methodOps = new WeakMap<object, Map<string, Operation<any, unknown>>>();
  /** The last error logged for each page, so that each is logged once. */
  private readonly logged = new Map<string, string>();
  readonly parts: PageApiParts;

  constructor(private readonly o: PageEngineOptions) {
    this.parts = { ops: o.ops, shared: o.shared, nodeName: o.nodeName, log: o.log };
    this.setFolders(o.folders);
  }

  /** setFolders changes the page folders (a reload); everything made from the old ones is dropped. */
  setFolders(dirs: readonly string[]): void {
    this.folders = new PageFolders(dirs);
    this.liquid = createLiquid(this.folders);
    this.templates = new StatCache();
    this.scripts = new StatCache();
    this.methods = new Map();
  }

  /** find is the page NAME: the first folder holding NAME.html, NAME.js or NAME.ts owns it. */
  find(name: string): Page | undefined {
    if (!PAGE_NAME.test(name)) return undefined;
    for (const folder of this.folders.dirs) {
      const template = this.folders.at(folder, `${name}.html`);
      const script = this.folders.at(folder, `${name}.js`) ?? this.folders.at(folder, `${name}.ts`);
      if (template || script) return { name, folder, template, script };
    }
    return undefined;
  }

  /** template is a page's parsed template; a syntax error is thrown as the page's error. */
  template(hit: FileHit): Template[] {
    const t = this.templates.get(hit.file, hit.stat, () => {
      try {
        return { value: this.liquid.parse(fs.readFileSync(hit.file, 'utf8'), hit.file) };
      } catch (err) {
        return { error: createError('REMON_ERR_PAGE_TEMPLATE', this.clean(errorMessage(err)), err) };
      }
    });
    if (t.error) throw t.error;
    return t.value!;
  }

  /** load is a script's module from the cache (loaded again when its file changed), or its load failure. */
  private load(hit: FileHit): Loaded<PageModule> {
    return this.scripts.get(hit.file, hit.stat, () => {
      try {
        const value = loadPageScript(hit.file);
        for (const [name, rpc] of value.rpc) {
          const problem = this.o.ops.schemaProblem(rpc.params);
          if (problem) throw createError('REMON_ERR_PAGE_SCRIPT', `${path.basename(hit.file)}: rpc method "${name}": params is not a usable JSON schema: ${problem}`);
        }
        return { value };
      } catch (err) {
        return { error: err as Error };
      }
    });
  }

  /**
   * script is a page's loaded script; a load failure, or an RPC name that a built-in
   * operation or another page has, is thrown as the page's error.
   */
  script(page: Page): PageModule | undefined {
    if (!page.script) return undefined;
    const s = this.load(page.script);
    if (s.error) throw s.error;
    const mod = s.value!;
    if (mod.rpc.size > 0) {
      this.scan();
      const problem = this.clash(page.name, mod, this.methods);
      if (problem) throw problem;
    }
    return mod;
  }

  /** clash is the page's error when one of its RPC names is a built-in operation's or another page's in methods. */
  private clash(name: string, mod: PageModule, methods: ReadonlyMap<string, { page: string }>): Error | undefined {
    for (const method of mod.rpc.keys()) {
      if (this.o.ops.declares(method)) {
        return createError('REMON_ERR_PAGE_RPC', `rpc method "${method}" of page "${name}" is a built-in operation's name; choose another name`);
      }
      const owner = methods.get(method)?.page;
      if (owner !== undefined && owner !== name) {
        return createError('REMON_ERR_PAGE_RPC', `rpc method "${method}" of page "${name}" is declared by page "${owner}" already; choose another name`);
      }
    }
    return undefined;
  }

  /**
   * scan finds every page with a script and its RPC methods, in folder order then name
   * order: a method name that is a built-in operation's, or an earlier page's, makes that
   * page fail (none of its methods join; its error is logged once). Cheap when nothing
   * changed: a readdir per folder and a stat per script.
   */
  scan(): void {
    const methods = new Map<string, { page: string; op: Operation<any, unknown> }>();
    const seen = new Set<string>();
    for (const folder of this.folders.dirs) {
      let names: string[];
      try {
        names = fs.readdirSync(folder);
      } catch {
        continue;
      }
      names.sort();
      for (const f of names) {
        const ext = path.extname(f);
        const name = f.slice(0, -ext.length);
        if (!SCRIPT_EXTS.includes(ext) || seen.has(name) || !PAGE_NAME.test(name)) continue;
        seen.add(name);
        const page = this.find(name);
        if (!page?.script) continue;
        const loaded = this.load(page.script);
        if (loaded.error) {
          this.failed(name, loaded.error);
          continue;
        }
        const mod = loaded.value!;
        if (mod.rpc.size === 0) continue;
        const problem = this.clash(name, mod, methods);
        if (problem) {
          this.failed(name, problem);
          continue;
        }
        for (const [m, op] of this.opsOf(name, mod)) methods.set(m, { page: name, op });
      }
    }
    this.methods = methods;
  }

  /** opsOf turns a page script's methods into operations (made once per loaded script). */
  private opsOf(page: string, mod: PageModule): Map<string, Operation<any, unknown>> {
    let ops = this.methodOps.get(mod);
    if (ops) return ops;
    ops = new Map();
    for (const [name, rpc] of mod.rpc) {
      ops.set(name, {
        name,
        summary: rpc.summary,
        params: rpc.params,
        write: rpc.write,
        handler: (p, ctx) => rpc.handler(p, pageApi(this.parts, page, ctx.authorized)),
      });
    }
    this.methodOps.set(mod, ops);
    return ops;
  }

  /** get is OpSource's: the page method of that name, as the folders are now. */
  get(name: string): Operation<any, unknown> | undefined {
    this.scan();
    return this.methods.get(name)?.op;
  }

  /** list is OpSource's: every page method, as the folders are now. */
  list(): Array<Operation<any, unknown>> {
    this.scan();
    return [...this.methods.values()].map((m) => m.op);
  }

  /** failed logs a page's error once (until it changes or the page works again). */
  failed(name: string, err: unknown): void {
    const message = errorMessage(err);
    if (this.logged.get(name) === message) return;
    this.logged.set(name, message);
    this.o.log.error({ page: name, err: message, code: (err as { code?: string }).code }, 'page failed');
  }

  /** worked forgets a page's logged error: the next failure is logged again. */
  worked(name: string): void {
    if (this.logged.size > 0) this.logged.delete(name);
  }

  /** clean strips the page folders from a message (a template error names the file): the name relative to its folder is enough. */
  clean(message: string): string {
    let out = message.replace(/ENOENT: Failed to lookup "([^"]*)" in "[^"]*"/g, 'no file "$1" in the page folders (or it links outside them)');
    for (const d of this.folders.dirs) out = out.split(d + path.sep).join('');
    return out;
  }
}
