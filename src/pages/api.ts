import type { Logger } from '../log';
import type { OpTable } from '../ops/table';
import type { Shared } from '../shared/shared';

/** PageRequest is what a page handler sees of a request. */
export interface PageRequest {
  method: 'GET' | 'POST';
  /** The URL path after /NAME, still with its leading slash (`/homepage` for /block/homepage), '' for /NAME itself. */
  path: string;
  /** The query string's parameters (a repeated one is a list). */
  query: Record<string, string | string[]>;
  /** POST: the JSON body (undefined without one); GET: undefined. */
  body: unknown;
}

/** RespondOptions is a raw answer a handler asks for with page.respond. */
export interface RespondOptions {
  status?: number;
  /** The Content-Type (default: text/plain for a string body, application/json otherwise). */
  type?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** PageResponse is the marker page.respond returns: a handler that returns it sends that answer as it is. */
export class PageResponse {
  constructor(readonly options: RespondOptions) {}
}

/**
 * PageApi is the `page` argument of a page's handlers: its name, the operations table with
 * the caller's rights, shared state, the node's name, a logger, and raw answers.
 */
export interface PageApi {
  name: string;
  /** rpc calls an operation (`blocks.list`, `counter.incr`, ...) with the caller's rights, through the 'page' door; resolves to its result. */
  rpc(method: string, params?: Record<string, unknown>): Promise<unknown>;
  shared: Shared;
  node: { name: string };
  log: Logger;
  /** respond makes a raw answer: `return page.respond({ status: 200, type: 'image/svg+xml', body: svg })`. */
  respond(options: RespondOptions): PageResponse;
}

/** PageApiParts are what a PageApi is made of, besides the page and the caller. */
export interface PageApiParts {
  ops: OpTable;
  shared: Shared;
  nodeName: string;
  log: Logger;
}

/** pageApi makes the `page` argument for one call, with the rights of its caller. */
export function pageApi(parts: PageApiParts, name: string, authorized: boolean): PageApi {
  let log: Logger | undefined;
  return {
    name,
    rpc: async (method, params) => (await parts.ops.invoke(method, params ?? {}, { authorized, via: 'page' })).value,
    shared: parts.shared,
    node: { name: parts.nodeName },
    // Made when used: most handlers never log, and a child logger costs.
    get log() {
      return (log ??= parts.log.child({ page: name }));
    },
    respond: (options) => new PageResponse(options ?? {}),
  };
}
