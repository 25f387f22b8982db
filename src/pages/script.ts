import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { createError, errorMessage } from '../errors';
import type { JsonSchema } from '../engine/block';
import { OP_NAME } from '../ops/operation';
import type { PageApi, PageRequest } from './api';

/** PageHandler is a page script's GET or POST: the template's context, JSON, or page.respond(...). */
export type PageHandler = (req: PageRequest, page: PageApi) => unknown;

/** PageRpc is one RPC method a page script adds to the operations table. */
export interface PageRpc {
  summary: string;
  params: JsonSchema;
  /** Whether it needs the token (default true: a page method writes unless it says it does not). */
  write: boolean;
  handler(params: Record<string, unknown>, page: PageApi): unknown;
}

/** PageModule is a loaded page script, checked. */
export interface PageModule {
  GET?: PageHandler;
  POST?: PageHandler;
  rpc: Map<string, PageRpc>;
}

/** ANY_PARAMS is the params schema of a page method that declares none: any object. */
const ANY_PARAMS: JsonSchema = { type: 'object' };

interface ModuleInternals {
  _nodeModulePaths(dir: string): string[];
}
type CompilingModule = Module & { _compile(source: string, file: string): void };

/**
 * typescriptLoader finds the typescript module for a `.ts` page: the user's (beside their
 * pages) or the one installed with remon. Tests replace `load` to see a node without it.
 */
export const typescriptLoader = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: (file: string): typeof import('typescript') => require(require.resolve('typescript', { paths: [path.dirname(file), __dirname] })),
};

/** transpile turns a `.ts` page script into CommonJS with the installed typescript, if there is one. */
function transpile(source: string, file: string): string {
  let ts: typeof import('typescript');
  try {
    ts = typescriptLoader.load(file);
  } catch {
    throw createError('REMON_ERR_PAGE_TYPESCRIPT', `${path.basename(file)} is TypeScript, and the typescript package is not installed; install it (npm install typescript) or write the script as .js`);
  }
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  const problem = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (problem) {
    const where = problem.file && problem.start !== undefined ? problem.file.getLineAndCharacterOfPosition(problem.start) : undefined;
    const at = where ? `${path.basename(file)}:${where.line + 1}:${where.character + 1}: ` : '';
    throw createError('REMON_ERR_PAGE_SCRIPT', `${at}${ts.flattenDiagnosticMessageText(problem.messageText, '\n')}`);
  }
  return out.outputText;
}

/**
 * compile runs a page script's source as a CommonJS module of its own (require works
 * relative to the file), fresh each time it is called: the file is the user's code,
 * dropped in on purpose like a block type (never text from a request).
 */
function compile(file: string): unknown {
  let source = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.ts')) source = transpile(source, file);
  const m = new Module(file, module) as CompilingModule;
  m.filename = file;
  m.paths = (Module as unknown as ModuleInternals)._nodeModulePaths(path.dirname(file));
  m._compile(source, file);
  m.loaded = true;
  return m.exports;
}

/** checkRpc checks one declared method and fills its defaults; its problem is the page's error. */
function checkRpc(name: string, d: unknown, file: string): PageRpc {
  const base = path.basename(file);
  if (!OP_NAME.test(name)) throw createError('REMON_ERR_PAGE_SCRIPT', `${base}: rpc method "${name.slice(0, 100)}" is not named area.verb (e.g. "wall.post")`);
  const def = (typeof d === 'function' ? { handler: d } : d) as Partial<PageRpc> | null;
  if (typeof def?.handler !== 'function') throw createError('REMON_ERR_PAGE_SCRIPT', `${base}: rpc method "${name}" has no handler function`);
  const params = def.params ?? ANY_PARAMS;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw createError('REMON_ERR_PAGE_SCRIPT', `${base}: rpc method "${name}": params must be a JSON schema object`);
  if (def.write !== undefined && typeof def.write !== 'boolean') throw createError('REMON_ERR_PAGE_SCRIPT', `${base}: rpc method "${name}": write must be true or false`);
  return {
    summary: typeof def.summary === 'string' ? def.summary : `${name} (page method)`,
    params,
    write: def.write ?? true,
    handler: def.handler.bind(def),
  };
}

/**
 * loadPageScript loads a page script (`NAME.js` or `NAME.ts`) and checks its shape: GET and
 * POST, when present, are functions; `rpc` maps area.verb names to methods. Every problem
 * is a REMON_ERR_PAGE_SCRIPT (or _TYPESCRIPT) error for the page to show.
 */
export function loadPageScript(file: string): PageModule {
  let exported: unknown;
  try {
    exported = compile(file);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('REMON_ERR_PAGE_')) throw err;
    throw createError('REMON_ERR_PAGE_SCRIPT', `${path.basename(file)} failed to load: ${errorMessage(err)}${locationIn(err, file)}`, err);
  }
  const mod = ((exported as { default?: unknown })?.default ?? exported) as Record<string, unknown> | null;
  if (typeof mod !== 'object' || mod === null) throw createError('REMON_ERR_PAGE_SCRIPT', `${path.basename(file)} exports no object (module.exports = { GET, POST, rpc })`);
  for (const k of ['GET', 'POST'] as const) {
    if (mod[k] !== undefined && typeof mod[k] !== 'function') throw createError('REMON_ERR_PAGE_SCRIPT', `${path.basename(file)}: ${k} must be a function (async (req, page) => ...)`);
  }
  const rpc = new Map<string, PageRpc>();
  if (mod.rpc !== undefined) {
    if (typeof mod.rpc !== 'object' || mod.rpc === null) throw createError('REMON_ERR_PAGE_SCRIPT', `${path.basename(file)}: rpc must be an object of methods ({ 'area.verb': { handler } })`);
    for (const [name, d] of Object.entries(mod.rpc)) rpc.set(name, checkRpc(name, d, file));
  }
  return { GET: mod.GET as PageHandler | undefined, POST: mod.POST as PageHandler | undefined, rpc };
}

/** locationIn finds where in the page file an error was thrown (` (at NAME.js:3:9)`), from its stack. */
export function locationIn(err: unknown, file: string): string {
  const stack = (err as { stack?: unknown })?.stack;
  if (typeof stack !== 'string') return '';
  const at = stack.split('\n').find((l) => l.includes(file));
  const m = at ? /:(\d+):(\d+)\)?\s*$/.exec(at) : null;
  if (m) return ` (at ${path.basename(file)}:${m[1]}:${m[2]})`;
  // A syntax error names the file on its first line: "/x/NAME.js:3".
  const first = new RegExp(`${escapeRegExp(file)}:(\\d+)`).exec(stack);
  return first ? ` (at ${path.basename(file)}:${first[1]})` : '';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
