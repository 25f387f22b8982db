import * as http from 'node:http';
import * as https from 'node:https';
import { createError, ErrorCode, ErrorCodes, errorMessage, RemonError } from '../errors';
import { MAX_BATCH } from './protocol';
import type { RpcError } from './protocol';
import { RpcSession, SessionOptions } from './session';

/**
 * The typed JSON-RPC client of remon: calls and batches over `POST /rpc` (RpcClient), and
 * a WebSocket session with subscriptions that reconnects by itself (RpcSession, in
 * session.ts). The token goes in the Authorization header, never in a URL. A call that
 * fails rejects with a RemonError: the node's own code (`data.code`) when it sent one,
 * with `details.rpc` the JSON-RPC code and `details.data` the error's data.
 */

/** DEFAULT_TIMEOUT_MS: how long a call waits for its answer unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** RpcClientOptions: the node's base URL (http://HOST:PORT), its token, a timeout per call. */
export interface RpcClientOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
}

/** BatchCall is one call of a batch. */
export interface BatchCall {
  method: string;
  params?: Record<string, unknown>;
}

/** BatchResult is one call's outcome in a batch, in the order of the calls. */
export type BatchResult = { ok: true; result: unknown } | { ok: false; error: RemonError };

/** rpcCodeOfError is the JSON-RPC code a client error carries (undefined for one made locally). */
export function rpcCodeOfError(err: unknown): number | undefined {
  const rpc = (err as RemonError)?.details?.rpc;
  return typeof rpc === 'number' ? rpc : undefined;
}

/** remoteError turns a JSON-RPC error answer into a RemonError: the node's code, the JSON-RPC code in details.rpc. */
export function remoteError(method: string, e: RpcError): RemonError {
  const code = e.data?.code;
  const known = typeof code === 'string' && code in ErrorCodes;
  const err = createError(known ? (code as ErrorCode) : 'REMON_ERR_RPC_REMOTE', known ? String(e.message) : `${method}: ${String(e.message)} (${e.code})`);
  err.details = { rpc: e.code, ...(e.data && { data: e.data }) };
  return err;
}

/** checkUrl normalizes a node's base URL: http(s)://HOST:PORT, no trailing slash. */
export function checkUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#\s]+$/.test(u)) throw createError('REMON_ERR_OP_PARAMS', `an RPC url must be http://HOST:PORT (no path); got "${url.slice(0, 100)}"`);
  return u;
}

/** unreachable words a failed fetch: the reason is in its cause (or the cause's list). */
export function unreachable(url: string, err: unknown, timeoutMs: number): RemonError {
  const e = err as Error & { code?: string; errors?: Array<{ code?: string }> };
  if ((err as RemonError)?.code === 'REMON_ERR_RPC_REMOTE') return err as RemonError;
  const why = e?.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s`
    : (typeof e?.code === 'string' ? e.code : undefined) ?? e?.errors?.[0]?.code ?? errorMessage(err);
  return createError('REMON_ERR_RPC_UNREACHABLE', `cannot reach the node at ${url}: ${why}`, err);
}

/** MAX_ANSWER: the largest HTTP answer the client reads (a series.fetch of many points is large; more is refused). */
export const MAX_ANSWER = 64 * 1024 * 1024;

/** HttpAnswer is an HTTP answer's status and body. */
export interface HttpAnswer {
  status: number;
  text: string;
}

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };

/**
 * postText POSTs a body to base + path over a keep-alive connection (node:http: a fifth of
 * fetch's cost per call) and reads the answer, at most MAX_ANSWER bytes, within timeoutMs.
 */
export function postText(base: string, path: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer> {
  const tls = base.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(`${base}${path}`, {
      method: 'POST',
      agent: tls ? agents.https : agents.http,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER) {
          req.destroy(createError('REMON_ERR_RPC_REMOTE', `the answer is larger than ${MAX_ANSWER / 1024 / 1024} MB`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000}s`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
}

interface Wire {
  id?: unknown;
  result?: unknown;
  error?: RpcError;
}

const isAnswer = (v: unknown): v is Wire =>
  typeof v === 'object' && v !== null && ('result' in v || (typeof (v as Wire).error === 'object' && (v as Wire).error !== null));

/**
 * RpcClient calls a node's methods over `POST /rpc`, one call or a batch per request
 * (keep-alive connections through node:http, a timeout per request, answers up to MAX_ANSWER).
 */
export class RpcClient {
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private nextId = 1;

  constructor(private readonly o: RpcClientOptions) {
    this.url = checkUrl(o.url);
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = { 'content-type': 'application/json', ...(o.token && { authorization: `Bearer ${o.token}` }) };
  }

  /** call calls one method and resolves with its result; rejects with a RemonError. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const a = await this.post(`{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
    if (!isAnswer(a)) throw createError('REMON_ERR_RPC_REMOTE', `${method}: the node at ${this.url} sent something that is not a JSON-RPC answer: ${JSON.stringify(a).slice(0, 200)}`);
    if (a.error) throw remoteError(method, a.error);
    return a.result as T;
  }

  /** batch sends calls as one batch (at most 100) and gives each one's outcome, in order. */
  async batch(calls: readonly BatchCall[]): Promise<BatchResult[]> {
    if (calls.length === 0 || calls.length > MAX_BATCH) throw createError('REMON_ERR_RPC_INVALID', `a batch holds 1 to ${MAX_BATCH} calls; got ${calls.length}`);
    const first = this.nextId;
    this.nextId += calls.length;
    const body = JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? {} })));
    const a = await this.post(body);
    if (!Array.isArray(a)) {
      if (isAnswer(a) && a.error) throw remoteError('batch', a.error);
      throw createError('REMON_ERR_RPC_REMOTE', `the node at ${this.url} answered a batch with something that is not a list of answers`);
    }
    const byId = new Map<unknown, Wire>(a.filter(isAnswer).map((w) => [w.id, w]));
    return calls.map((c, i) => {
      const w = byId.get(first + i);
      if (!w) return { ok: false, error: createError('REMON_ERR_RPC_REMOTE', `${c.method}: the node's batch answer has no answer for this call`) };
      return w.error ? { ok: false, error: remoteError(c.method, w.error) } : { ok: true, result: w.result };
    });
  }

  /** session opens a WebSocket session to the same node with the same token. */
  session(o: Omit<SessionOptions, 'url' | 'token'> = {}): RpcSession {
    return new RpcSession({ url: this.url, token: this.o.token, timeoutMs: this.timeoutMs, ...o });
  }

  private async post(body: string): Promise<unknown> {
    let a: HttpAnswer;
    try {
      a = await postText(this.url, '/rpc', body, this.headers, this.timeoutMs);
    } catch (err) {
      throw unreachable(this.url, err, this.timeoutMs);
    }
    if (a.status === 204) return undefined;
    try {
      return JSON.parse(a.text);
    } catch {
      throw createError('REMON_ERR_RPC_REMOTE', `the node at ${this.url} answered HTTP ${a.status} without a JSON-RPC answer: ${a.text.slice(0, 200)}`);
    }
  }

}

export { RpcSession };
export type { SessionOptions, SessionState, Subscription, LiveParams } from './session';
