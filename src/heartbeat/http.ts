import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage, httpStatusOf } from '../errors';
import type { RawRoute, RouteDeps, WebRoute } from '../web/server';
import type { SignalAnswer } from './hub';
import { SendParams } from './ops';
import { BODY_LIMIT } from './types';

const USAGE = 'expected /hb/NAME, /hb/NAME/start, /hb/NAME/fail or /hb/NAME/EXITCODE';

const JSON_TYPE = 'application/json; charset=utf-8';

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/**
 * sendAccepted answers a durable signal: `{"ok":true,"name":...,"state":...}`. It is every
 * 200 of the hot path, so the text is put together directly: a name the hub accepted
 * (NAME_PATTERN) and a state (BeatState) are plain ASCII that JSON needs no escapes for.
 */
function sendAccepted(req: IncomingMessage, res: ServerResponse, a: SignalAnswer): void {
  const text = `{"ok":true,"name":"${a.name}","state":"${a.state}"}`;
  res.writeHead(200, ['content-type', JSON_TYPE, 'content-length', String(text.length)]);
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** isSignalUrl: /hb, /hb/..., /hb?... (without building strings: it is asked of every request). */
function isSignalUrl(url: string): boolean {
  if (url.length < 3 || url.charCodeAt(0) !== 47 /* / */ || url.charCodeAt(1) !== 104 /* h */ || url.charCodeAt(2) !== 98 /* b */) return false;
  if (url.length === 3) return true;
  const c = url.charCodeAt(3);
  return c === 47 /* / */ || c === 63; /* ? */
}

/** hasBody: the request says a body follows (a length other than 0, or chunks). */
function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
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

/** isNameCode: a character heartbeat names may have (NAME_PATTERN), none of which is %-escaped. */
function isNameCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** plainName is the NAME of a plain /hb/NAME (nothing to decode, no action, no query), or undefined. */
function plainName(url: string): string | undefined {
  if (url.length <= 4 || url.charCodeAt(3) !== 47 /* / */) return undefined;
  for (let i = 4; i < url.length; i++) if (!isNameCode(url.charCodeAt(i))) return undefined;
  return url.slice(4);
}

/** parseSignal reads /hb/NAME[/ACTION][?rid=ID]; a string is the reason it is bad. */
function parseSignal(url: string): SendParams | string {
  const plain = plainName(url);
  if (plain !== undefined) return { name: plain };
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
  const signal: SendParams = { name };
  if (action === 'start' || action === 'fail') signal.kind = action;
  else if (action !== undefined) {
    if (!/^[+-]?\d+$/.test(action)) return `unknown signal "${action}"; ${USAGE}`;
    const code = Number(action);
    if (!/^\d{1,3}$/.test(action) || code > 255) return `exit codes are 0-255; got ${action}`;
    signal.exit_code = code;
  }
  if (q >= 0) {
    const rid = new URLSearchParams(url.slice(q + 1)).get('rid');
    if (rid !== null) signal.rid = rid;
  }
  return signal;
}

/**
 * heartbeatSignals answers GET|HEAD|POST /hb/NAME[/start|/fail|/EXITCODE][?rid=ID]
 * outside express: it is the hot path (thousands a second), and express's per-request
 * cost would be most of it. It calls the `heartbeat.send` operation; no token is needed
 * (DESIGN: heartbeats are the one write without it). 200 is answered only once the signal
 * is durable in the journal.
 */
export function heartbeatSignals({ ops, log }: RouteDeps): RawRoute {
  const caller = { authorized: false, via: 'http' } as const;
  return (req, res) => {
    const url = req.url ?? '';
    if (!isSignalUrl(url)) return false;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      req.resume();
      send(req, res, 405, { error: `heartbeat signals are GET or POST, not ${method}` }, { allow: 'GET, HEAD, POST' });
      return true;
    }
    const parsed = parseSignal(url);
    if (typeof parsed === 'string') {
      req.resume();
      send(req, res, 400, { error: parsed });
      return true;
    }
    const answer = (err: unknown, value?: unknown): void => {
      if (!err) return sendAccepted(req, res, value as SignalAnswer);
      const status = httpStatusOf(err);
      if (status >= 500) log.error({ err: errorMessage(err), path: url.slice(0, 200) }, 'heartbeat signal failed');
      send(req, res, status, { error: errorMessage(err) });
    };
    // A body cut short (the client went away, or a broken chunk) is the client's problem: no answer to give.
    if (method === 'POST' && hasBody(req)) {
      readBody(req).then(
        (text) => {
          if (text) parsed.body = text;
          ops.call('heartbeat.send', parsed, caller, answer);
        },
        () => res.destroy(),
      );
    } else {
      // Ended now, while the request is fresh in the cache; left for the server to drain
      // after the answer (past the journal's fdatasync) the same steps cost twice as much.
      req.resume();
      ops.call('heartbeat.send', parsed, caller, answer);
    }
    return true;
  };
}

/** heartbeatRoute is the heartbeats' route module: the /hb signal endpoints. */
export const heartbeatRoute: WebRoute = { name: 'heartbeat', raw: heartbeatSignals };
