import express, { NextFunction, Request, Response } from 'express';
import { createError, errorMessage, httpStatusOf } from '../errors';
import type { RouteDeps, WebRoute } from '../web/server';
import { JSON_LIMIT } from '../web/rest';
import { pageApi, PageRequest, PageResponse, RespondOptions } from './api';
import { renderPage } from './context';
import type { Page, PageEngine } from './engine';
import { locationIn } from './script';
import type { StaticFiles } from './static';

/** PAGE_PATH splits a URL path into a page name and the rest: /NAME, /NAME/rest... */
const PAGE_PATH = /^\/([A-Za-z0-9_-]+)(\/.*)?$/;
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** escapeHtml makes text safe inside HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** PagesRouteOptions: the engine, the static files and what the template's `node` says. */
export interface PagesRouteOptions {
  engine: () => PageEngine;
  statics: StaticFiles;
  nodeName: () => string;
  version: string;
}

/**
 * pagesRoute answers the drop-in pages, mounted after every other route (an API route
 * always wins): `GET /` is the page index, `GET|POST /NAME[/rest]` the page NAME,
 * `GET /static/<path>` the page folders' assets. A name no page has falls through to the
 * node's 404.
 */
export function pagesRoute(o: PagesRouteOptions): WebRoute {
  return {
    name: 'pages',
    fallback: true,
    mount(app, deps) {
      const json = express.json({ limit: JSON_LIMIT });
      app.use((req: Request, res: Response, next: NextFunction) => {
        const method = req.method;
        const get = method === 'GET' || method === 'HEAD';
        if (!get && method !== 'POST') return next();
        const url = req.path;
        if (url.startsWith('/static/')) {
          if (!get || !o.statics.serve(req, res, url.slice('/static/'.length))) next();
          return;
        }
        const m = url === '/' ? ['/', 'index', undefined] : PAGE_PATH.exec(url);
        if (!m) return next();
        const page = o.engine().find(m[1]!);
        if (!page) return next();
        const run = (): void => void servePage(o, deps, req, res, page, m[2] ?? '');
        if (get) run();
        else json(req, res, (err?: unknown) => (err ? next(err) : run()));
      });
    },
  };
}

/** servePage runs a page: its handler, then its template (HTML) or the handler's result (JSON); a failure is the page's own answer. */
async function servePage(o: PagesRouteOptions, deps: RouteDeps, req: Request, res: Response, page: Page, rawRest: string): Promise<void> {
  const engine = o.engine();
  const method: 'GET' | 'POST' = req.method === 'POST' ? 'POST' : 'GET';
  const html = method === 'GET' && page.template !== undefined;
  const name = page.name;
  try {
    let rest: string;
    try {
      rest = decodeURIComponent(rawRest);
    } catch {
      throw createError('REMON_ERR_OP_PARAMS', `the path after /${name} has a bad %-escape`);
    }
    const mod = engine.script(page);
    const handler = mod?.[method];
    if (method === 'POST' && !handler) throw createError('REMON_ERR_PAGE_METHOD', `page "${name}" takes no POST (its script has no POST handler)`);
    if (!handler && !page.template) throw createError('REMON_ERR_PAGE_UNKNOWN', `page "${name}" has no template and its script no GET handler`);
    const authorized = deps.authorized(req);
    if (method === 'POST' && !authorized) {
      throw createError('REMON_ERR_OP_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <node.token>)');
    }
    let data: unknown;
    if (handler) {
      const preq: PageRequest = { method, path: rest, query: req.query as PageRequest['query'], body: method === 'POST' ? req.body : undefined };
      try {
        data = await handler(preq, pageApi(engine.parts, name, authorized));
      } catch (err) {
        throw handlerError(err, name, method, page.script!.file);
      }
    }
    if (data instanceof PageResponse) sendRaw(res, data.options, name);
    else if (html) {
      const tpls = engine.template(page.template!);
      const parts = {
        ops: engine.parts.ops,
        authorized,
        tokenRequired: deps.token !== undefined,
        node: { name: o.nodeName(), url: `${req.protocol}://${req.headers.host ?? 'localhost'}`, version: o.version },
        page: { name, path: rest, query: req.query as Record<string, unknown> },
      };
      let text: string;
      try {
        text = await renderPage(engine.liquid, tpls, parts, data);
      } catch (err) {
        throw createError('REMON_ERR_PAGE_TEMPLATE', engine.clean(errorMessage(err)), err);
      }
      send(res, 200, HTML, text);
    } else {
      let text: string | undefined;
      try {
        text = JSON.stringify(data ?? null);
      } catch (err) {
        throw createError('REMON_ERR_PAGE_HANDLER', `page "${name}": ${method} returned what cannot be sent as JSON: ${errorMessage(err)}`, err);
      }
      send(res, 200, JSON_TYPE, text);
    }
    engine.worked(name);
  } catch (err) {
    sendPageError(engine, res, name, html, err);
  }
}

/** handlerError keeps a coded error a handler passed on (an operation's 401, 404) and words any other as the page's. */
function handlerError(err: unknown, name: string, method: string, file: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('REMON_ERR_')) return err;
  return createError('REMON_ERR_PAGE_HANDLER', `page "${name}": ${method} handler failed: ${errorMessage(err)}${locationIn(err, file)}`, err);
}

/** sendRaw sends what a handler asked for with page.respond. */
function sendRaw(res: Response, r: RespondOptions, name: string): void {
  const status = r.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw createError('REMON_ERR_PAGE_HANDLER', `page "${name}": page.respond status ${String(status)} is not an HTTP status (200-599)`);
  }
  let body: string | Buffer;
  let type = r.type;
  if (typeof r.body === 'string') { body = r.body; type ??= 'text/plain; charset=utf-8'; }
  else if (Buffer.isBuffer(r.body)) { body = r.body; type ??= 'application/octet-stream'; }
  else if (r.body === undefined) body = '';
  else { body = JSON.stringify(r.body); type ??= JSON_TYPE; }
  try {
    for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, String(v));
  } catch (err) {
    res.removeHeader('content-type');
    throw createError('REMON_ERR_PAGE_HANDLER', `page "${name}": page.respond headers: ${errorMessage(err)}`, err);
  }
  send(res, status, type ?? 'text/plain; charset=utf-8', body);
}

function send(res: Response, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/** sendPageError answers a page's failure with its own error: an escaped HTML page for a template page, JSON otherwise. */
function sendPageError(engine: PageEngine, res: Response, name: string, html: boolean, err: unknown): void {
  const status = httpStatusOf(err);
  const code = (err as { code?: string }).code ?? 'REMON_ERR_PAGE_HANDLER';
  const message = errorMessage(err);
  if (status >= 500) engine.failed(name, err);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  if (!html) {
    send(res, status, JSON_TYPE, JSON.stringify({ error: message, code, page: name }));
    return;
  }
  const title = status >= 500 ? `page "${name}" failed` : `page "${name}": ${status}`;
  const body = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}pre{background:#fdf0f0;border:1px solid #e4b4b4;padding:1rem;white-space:pre-wrap;word-break:break-word}</style></head>
<body><h1>${escapeHtml(title)}</h1><pre class="page-error" data-code="${escapeHtml(code)}">${escapeHtml(message)}</pre><p><a href="/">other pages</a> keep working.</p></body></html>
`;
  send(res, status, HTML, body);
}
