import express, { Express, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createError, errorMessage, RemonError } from '../../errors';
import { HeartbeatHub } from '../../heartbeat/hub';
import { BODY_LIMIT, Signal } from '../../heartbeat/types';
import { requireToken } from '../auth';
import type { RouteDeps } from '../server';

/** RawRoute answers a request outside express when it is its own (returns true). */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

const STATUS: Record<string, number> = {
  REMON_ERR_HEARTBEAT_INVALID: 400,
  REMON_ERR_HEARTBEAT_UNKNOWN: 404,
  REMON_ERR_HEARTBEAT_LIMIT: 403,
  REMON_ERR_BLOCK_EXISTS: 409,
  REMON_ERR_HEARTBEAT_JOURNAL: 503,
};
const statusOf = (err: unknown): number => STATUS[(err as RemonError).code] ?? 500;
const USAGE = 'expected /hb/NAME, /hb/NAME/start, /hb/NAME/fail or /hb/NAME/EXITCODE';

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/**
 * readBody keeps the first BODY_LIMIT bytes of a request body and drains the rest: an
 * oversize body is cut, not refused. A cut inside a UTF-8 character drops that character.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    req.on('data', (c: Buffer) => {
      if (kept >= BODY_LIMIT) return;
      const part = c.length > BODY_LIMIT - kept ? c.subarray(0, BODY_LIMIT - kept) : c;
      chunks.push(part);
      kept += part.length;
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').replace(/\uFFFD+$/, '')));
    req.on('error', reject);
  });
}

/** parseSignal reads /hb/NAME[/ACTION][?rid=ID]; a string is the reason it is bad. */
function parseSignal(url: string): { name: string; signal: Signal } | string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const parts = path.slice(4).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // a trailing slash
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') return USAGE;
  let name: string;
  let action: string | undefined;
  try {
    name = decodeURIComponent(parts[0]);
    action = parts[1] === undefined ? undefined : decodeURIComponent(parts[1]);
  } catch {
    return 'bad %-escape in the URL';
  }
  const signal: Signal = { kind: 'success' };
  if (action === 'start' || action === 'fail') signal.kind = action;
  else if (action !== undefined) {
    if (!/^[+-]?\d+$/.test(action)) return `unknown signal "${action}"; ${USAGE}`;
    const code = Number(action);
    if (!/^\d{1,3}$/.test(action) || code > 255) return `exit codes are 0-255; got ${action}`;
    signal.kind = 'exit';
    signal.exitCode = code;
  }
  if (q >= 0) {
    const rid = new URLSearchParams(url.slice(q + 1)).get('rid');
    if (rid !== null) signal.rid = rid;
  }
  return { name, signal };
}

/**
 * heartbeatSignals answers GET|HEAD|POST /hb/NAME[/start|/fail|/EXITCODE][?rid=ID]
 * outside express: it is the hot path (thousands a second), and express's per-request
 * cost would be most of it. No token is needed (DESIGN: heartbeats are the one write
 * without it). 200 is answered only once the signal is durable in the journal.
 */
export function heartbeatSignals({ engine, log }: RouteDeps): RawRoute {
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith('/hb/') && url !== '/hb') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      req.resume();
      send(req, res, 405, { error: `heartbeat signals are GET or POST, not ${req.method}` }, { allow: 'GET, HEAD, POST' });
      return true;
    }
    const parsed = parseSignal(url);
    if (typeof parsed === 'string') {
      req.resume();
      send(req, res, 400, { error: parsed });
      return true;
    }
    const hub = engine.hub('heartbeat') as HeartbeatHub | undefined;
    const fail = (err: unknown): void => {
      const status = statusOf(err);
      if (status >= 500) log.error({ err: errorMessage(err), path: url }, 'heartbeat signal failed');
      send(req, res, status, { error: errorMessage(err) });
    };
    const go = (text: string): void => {
      if (text) parsed.signal.body = text;
      if (!hub) return fail(createError('REMON_ERR_HEARTBEAT_UNKNOWN', 'heartbeats are not available on this node'));
      hub.signal(parsed.name, parsed.signal).then((answer) => send(req, res, 200, { ok: true, ...answer }), fail);
    };
    if (req.method === 'POST') readBody(req).then(go, fail);
    else {
      req.resume();
      go('');
    }
    return true;
  };
}

/**
 * mountHeartbeats: GET /api/heartbeats, GET /api/heartbeats/:name (with the history of
 * signals and events), and POST /api/heartbeats/:name to create or edit one at run time
 * (`remon config`; needs the token when one is set).
 */
export function mountHeartbeats(app: Express, { engine, token }: RouteDeps): void {
  const hubOf = (res: Response): HeartbeatHub | undefined => {
    const hub = engine.hub('heartbeat') as HeartbeatHub | undefined;
    if (!hub) res.status(404).json({ error: 'heartbeats are not available on this node' });
    return hub;
  };

  app.get('/api/heartbeats', (_req, res) => {
    const hub = hubOf(res);
    if (hub) res.json(hub.list());
  });

  app.get('/api/heartbeats/:name', (req, res) => {
    const hub = hubOf(res);
    if (!hub) return;
    const hb = hub.get(String(req.params.name));
    if (!hb) return void res.status(404).json({ error: `no heartbeat is named "${req.params.name}"` });
    res.json(hb);
  });

  app.post('/api/heartbeats/:name', requireToken(token), express.json({ limit: '64kb' }), async (req: Request, res: Response) => {
    const hub = hubOf(res);
    if (!hub) return;
    const patch: unknown = req.body;
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      return void res.status(400).json({ error: 'expected a JSON object of heartbeat keys, e.g. {"period": "1h"}' });
    }
    const name = String(req.params.name);
    const existed = hub.has(name);
    try {
      res.status(existed ? 200 : 201).json(await hub.configure(name, patch as Record<string, unknown>));
    } catch (err) {
      res.status(statusOf(err)).json({ error: errorMessage(err) });
    }
  });
}
