import type { OpTable } from '../ops/table';

/** LAZY_LISTS are the node's lists a template may name, each the operation that makes it. */
const LAZY_LISTS: ReadonlyArray<[string, string, Record<string, unknown>]> = [
  ['blocks', 'blocks.list', {}],
  ['slas', 'slas.list', {}],
  ['alerts', 'alerts.list', {}],
  ['heartbeats', 'heartbeats.list', {}],
];

/** ContextParts are what a template's context is made of besides its page's handler result. */
export interface ContextParts {
  ops: OpTable;
  authorized: boolean;
  node: { name: string; url: string; version: string };
  page: { name: string; path: string; query: Record<string, unknown> };
  tokenRequired: boolean;
}

/**
 * templateContext is what a page template sees: `node` {name, url, version}, `page` {name,
 * path, query}, `session` {authorized, token_required}, the node's `blocks`, `slas`,
 * `alerts` and `heartbeats` (each asked of the operations table with the caller's rights,
 * only when the template names it, once per render; a part the node lacks is an empty
 * list), and on top what the page's GET returned.
 */
export function templateContext(parts: ContextParts, data: unknown): Record<string, unknown> {
  const scope: Record<string, unknown> = {
    node: parts.node,
    page: parts.page,
    session: { authorized: parts.authorized, token_required: parts.tokenRequired },
  };
  for (const [key, op, params] of LAZY_LISTS) {
    let value: Promise<unknown> | undefined;
    Object.defineProperty(scope, key, {
      enumerable: true,
      configurable: true,
      get: () => (value ??= listOf(parts.ops, op, params, parts.authorized)),
    });
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data)) Object.defineProperty(scope, k, { value: v, enumerable: true, configurable: true, writable: true });
  }
  return scope;
}

/** listOf is an operation's answer, or an empty list when the node has no such part (no SLAs, no alerts). */
async function listOf(ops: OpTable, op: string, params: Record<string, unknown>, authorized: boolean): Promise<unknown> {
  if (!ops.declares(op)) return [];
  try {
    return (await ops.invoke(op, params, { authorized, via: 'page' })).value;
  } catch {
    return [];
  }
}
