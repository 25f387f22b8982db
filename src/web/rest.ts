import express, { Express, NextFunction, Request, Response } from 'express';
import { createError, errorMessage, httpStatusOf } from '../errors';
import type { Logger } from '../log';
import type { Operation } from '../ops/operation';
import type { OpTable } from '../ops/table';
import { requestAuthorized } from './auth';

/** BODY_LIMIT: the largest JSON body a REST write takes. */
export const JSON_LIMIT = '64kb';

/** sendError answers an error: its coded status and message; an uncoded one is logged and answered 500. */
export function sendError(res: Response, err: unknown, log: Logger, path: string): void {
  const status = httpStatusOf(err);
  const code = (err as { code?: unknown })?.code;
  const coded = typeof code === 'string' && code.startsWith('REMON_ERR_');
  if (!coded) log.error({ err: errorMessage(err), path }, 'request failed');
  if (status === 401) res.set('WWW-Authenticate', 'Bearer');
  const details = (err as { details?: Record<string, unknown> }).details;
  res.status(status).json(coded ? { error: errorMessage(err), code, ...details } : { error: 'internal error' });
}

/** authorizedFor: whether a request carries the token or the browser session (or none is set). */
export function authorizedFor(token: string | undefined): (req: Request) => boolean {
  return (req) => requestAuthorized(req, token);
}

/** declaredQuery keeps the query parameters an operation declares (others, like cache busters, are ignored). */
function declaredQuery(op: Operation<any, unknown>, query: Record<string, unknown>): Record<string, unknown> {
  const props = (op.params.properties ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(query)) if (Object.prototype.hasOwnProperty.call(props, k)) out[k] = query[k];
  return out;
}

/**
 * mountRest answers each operation that has an HTTP binding on its route: GET takes its
 * params from the query string, POST and PUT from a JSON object body (or none; at most the
 * binding's bodyLimit, 64 kB by default); path parameters
 * are added on top. The answer is the operation's result as JSON, or `{error, code}` with
 * the status src/errors.ts maps the code to.
 */
export function mountRest(app: Express, ops: OpTable, token: string | undefined, log: Logger): void {
  const authorized = authorizedFor(token);
  const json = express.json({ limit: JSON_LIMIT });
  for (const op of ops.list()) {
    const http = op.http;
    if (!http) continue;
    const handler = async (req: Request, res: Response): Promise<void> => {
      let params: Record<string, unknown>;
      if (http.method === 'GET') params = declaredQuery(op, req.query as Record<string, unknown>);
      else {
        const body: unknown = req.body;
        if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
          return sendError(res, createError('REMON_ERR_OP_PARAMS', 'expected a JSON object as the body'), log, req.path);
        }
        params = { ...(body as Record<string, unknown> | undefined) };
      }
      for (const [k, v] of Object.entries(req.params)) params[k] = v;
      try {
        const reply = await ops.invoke(op.name, params, { authorized: authorized(req), via: 'http' });
        res.status(reply.status).json(reply.value);
      } catch (err) {
        sendError(res, err, log, req.path);
      }
    };
    const body = http.bodyLimit === undefined ? json : express.json({ limit: http.bodyLimit });
    if (http.method === 'GET') app.get(http.path, handler);
    else if (http.method === 'PUT') app.put(http.path, body, handler);
    else app.post(http.path, body, handler);
  }
}

/** bytesText words a body limit: 64kb (the default), 4096 bytes. */
function bytesText(limit: number | undefined): string {
  return limit === undefined || limit === 64 * 1024 ? JSON_LIMIT : `${limit} bytes`;
}

/** errorHandler answers what express itself refused (bad JSON, too large, bad %-escapes) with a 4xx and a reason. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const e = err as { status?: number; type?: string; expose?: boolean };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status >= 500) log.error({ err: errorMessage(err), path: req.path }, 'request failed');
    let error = status >= 500 ? 'internal error' : errorMessage(err);
    if (e.type === 'entity.parse.failed') error = `the body is not valid JSON: ${errorMessage(err)}`;
    if (e.type === 'entity.too.large') error = `the body is larger than ${bytesText((e as { limit?: number }).limit)}`;
    if (!res.headersSent) res.status(status).json({ error });
  };
}
