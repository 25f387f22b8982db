import type { Liquid, Template } from 'liquidjs';
import type { OpTable } from '../ops/table';

/** LAZY_LISTS are the node's lists a template may name, each with the operation that makes it. */
const LAZY_LISTS: ReadonlyMap<string, string> = new Map([
  ['blocks', 'blocks.list'],
  ['slas', 'slas.list'],
  ['alerts', 'alerts.list'],
  ['heartbeats', 'heartbeats.list'],
]);

/** ContextParts are what a template's context is made of besides its page's handler result. */
export interface ContextParts {
  ops: OpTable;
  authorized: boolean;
  node: { name: string; url: string; version: string };
  page: { name: string; path: string; query: Record<string, unknown> };
  tokenRequired: boolean;
}

/** MAX_ROUNDS bounds the renders of one page: each may reach lists the one before did not. */
const MAX_ROUNDS = 5;

/**
 * renderPage renders a page's template with its context: `node` {name, url, version},
 * `page` {name, path, query}, `session` {authorized, token_required}, the node's `blocks`,
 * `slas`, `alerts` and `heartbeats`, and on top what the page's GET returned.
 *
 * The node's lists are asked of the operations table (with the caller's rights) only when
 * the template, or a layout or include it uses, names them: a render is synchronous (the
 * fast way through liquidjs), a list it reaches that is not known yet reads as empty and
 * is noted; the noted lists are then fetched and the page rendered again, until a render
 * needs nothing new. A page that names no list renders once and asks for none.
 */
export async function renderPage(liquid: Liquid, tpls: Template[], parts: ContextParts, data: unknown): Promise<string> {
  const lists = new Map<string, unknown>();
  const wanted = new Set<string>();
  for (let round = 1; ; round++) {
    const text = liquid.renderSync(tpls, scopeOf(parts, data, lists, wanted));
    const missing = [...wanted].filter((k) => !lists.has(k));
    if (missing.length === 0 || round >= MAX_ROUNDS) return text;
    const values = await Promise.all(missing.map((k) => listOf(parts, k)));
    missing.forEach((k, i) => lists.set(k, values[i]));
  }
}

/** scopeOf is one render's context: the lists known so far, and a note of those asked for. */
function scopeOf(parts: ContextParts, data: unknown, lists: Map<string, unknown>, wanted: Set<string>): Record<string, unknown> {
  const scope: Record<string, unknown> = {
    node: parts.node,
    page: parts.page,
    session: { authorized: parts.authorized, token_required: parts.tokenRequired },
  };
  for (const key of LAZY_LISTS.keys()) {
    Object.defineProperty(scope, key, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (lists.has(key)) return lists.get(key);
        wanted.add(key);
        return [];
      },
    });
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) Object.defineProperty(scope, k, { value: v, enumerable: true, configurable: true, writable: true });
  }
  return scope;
}

/** listOf is a list operation's answer, or an empty list when the node has no such part (no SLAs, no alerts). */
async function listOf(parts: ContextParts, key: string): Promise<unknown> {
  const op = LAZY_LISTS.get(key)!;
  if (!parts.ops.declares(op)) return [];
  try {
    return (await parts.ops.invoke(op, {}, { authorized: parts.authorized, via: 'page' })).value;
  } catch {
    return [];
  }
}
