import type { IncomingMessage, ServerResponse } from 'node:http';
import { createError } from '../errors';
import type { RawRoute, RouteDeps } from '../web/server';
import { opInvoker } from './invoke';
import { Answer, answer, failure, MAX_MESSAGE, parse } from './protocol';

function send(res: ServerResponse, status: number, body: Answer | Answer[] | undefined, extra: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(204, extra);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** unauthorized tells whether a single call's answer is the token's refusal (answered 401, so a browser asks for it). */
const unauthorized = (a: Answer | Answer[] | undefined): boolean =>
  a !== undefined && !Array.isArray(a) && 'error' in a && a.error.data?.code === 'REMON_ERR_OP_UNAUTHORIZED';

/** readBody reads a request's body up to MAX_MESSAGE bytes; undefined when it is larger. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_MESSAGE) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

/**
 * postRpc is `POST /rpc`: one JSON-RPC request or a batch in the body, the answer (or an
 * array of them) in the response; 204 when every call was a notification. The HTTP status
 * is 200 whatever the calls' outcomes, except: 401 (with WWW-Authenticate) when a single
 * call needed the token, 400 for a body that is not JSON (-32700) or not a request
 * (-32600), 413 for a body over 256 kB, 405 for another method.
 */
export function postRpc(deps: RouteDeps): RawRoute {
  return (req, res) => {
    const url = req.url ?? '/';
    if (url !== '/rpc' && !url.startsWith('/rpc?')) return false;
    if (req.method !== 'POST') {
      req.resume();
      send(res, 405, failure(null, createError('REMON_ERR_RPC_INVALID', `invalid request: JSON-RPC takes POST /rpc (or a WebSocket on /rpc), not ${String(req.method).slice(0, 10)}`)), { allow: 'POST' });
      return true;
    }
    const invoke = opInvoker(deps.ops, deps.authorized(req), deps.log);
    void readBody(req).then(async (text) => {
      if (text === undefined) {
        res.setHeader('connection', 'close');
        return send(res, 413, failure(null, createError('REMON_ERR_RPC_INVALID', `invalid request: the body is larger than ${MAX_MESSAGE / 1024} kB`)));
      }
      let parsed;
      try {
        parsed = parse(text);
      } catch (err) {
        return send(res, 400, failure(null, err));
      }
      const out = await answer(parsed, invoke);
      if (unauthorized(out)) send(res, 401, out, { 'www-authenticate': 'Bearer' });
      else send(res, 200, out);
    }).catch((err) => {
      deps.log.error({ err: String(err) }, 'rpc request failed');
      if (!res.headersSent) send(res, 500, failure(null, err));
    });
    return true;
  };
}
