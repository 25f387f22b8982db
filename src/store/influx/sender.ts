import * as http from 'node:http';
import * as https from 'node:https';
import { HttpError, InfluxDB, setLogger, WriteApi } from '@influxdata/influxdb-client';
import { createError, errorMessage, RemonError } from '../../errors';
import { Logger } from '../../log';

/** SenderOptions: the server, the write target and the limits of one request. */
export interface SenderOptions {
  url: string;
  token?: string;
  org: string;
  bucket: string;
  /** Most lines one send() is given. */
  maxLines: number;
  /** Concurrent requests at most (sockets kept alive). */
  maxSockets: number;
  timeoutMs: number;
  /** Gzip request bodies over 1 KB (worth it over a network, wasted CPU on loopback). */
  gzip: boolean;
  log: Logger;
}

/**
 * Sender writes batches of line protocol through @influxdata/influxdb-client's WriteApi
 * (the InfluxDB v2 write API, which InfluxDB 2/3 and VictoriaMetrics accept), gzipping
 * bodies over 1 KB unless told not to. It does not retry: each send() resolves when the server accepted the
 * batch or rejects with a coded RemonError, and the store decides (spool, drop). The
 * client's own retry buffer is switched off because it is memory-only and reorders.
 */
export class Sender {
  private readonly api: WriteApi;
  private readonly agent: http.Agent;

  constructor(private readonly options: SenderOptions) {
    const secure = options.url.startsWith('https:');
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets })
      : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
    routeClientLog(options.log);
    const client = new InfluxDB({
      url: options.url,
      token: options.token,
      timeout: options.timeoutMs,
      transportOptions: { agent: this.agent },
    });
    this.api = client.getWriteApi(options.org, options.bucket, 'ms', {
      // Batching is the store's: one send() is one request, so the client must never
      // cut a batch itself (by count, bytes or timer).
      batchSize: options.maxLines + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: 1,
      gzipThreshold: options.gzip ? 1000 : Number.MAX_SAFE_INTEGER,
      // Returning a promise tells the client "handled": no retry buffer, no console log.
      writeFailed: (err: Error) => Promise.reject(err),
    });
  }

  /** send writes lines in one request (halving it when the server says it is too large). */
  async send(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    this.api.writeRecords(lines);
    try {
      await this.api.flush();
    } catch (err) {
      if (err instanceof HttpError && err.statusCode === 413 && lines.length > 1) {
        const half = lines.length >> 1;
        await this.send(lines.slice(0, half));
        await this.send(lines.slice(half));
        return;
      }
      throw classify(err, this.options.url, 'write', lines.length);
    }
  }

  /** abort cuts open connections (requests in flight fail as unreachable). */
  abort(): void {
    this.agent.destroy();
  }

  async close(): Promise<void> {
    this.api.dispose();
    this.agent.destroy();
  }
}

let routed: Logger | undefined;
/** routeClientLog sends the client library's console messages to remon's log instead. */
function routeClientLog(log: Logger): void {
  if (routed) return;
  routed = log;
  setLogger({
    error: (message: string, err?: unknown) => routed!.warn({ err: err ? errorMessage(err) : undefined }, `influxdb-client: ${message}`),
    warn: (message: string, err?: unknown) => routed!.debug({ err: err ? errorMessage(err) : undefined }, `influxdb-client: ${message}`),
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE',
  'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const LOOPBACK_URL = /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?(?:\/|$)/i;

/** isLoopbackUrl tells whether a URL points at this machine (then bodies are not gzipped). */
export function isLoopbackUrl(url: string): boolean {
  return LOOPBACK_URL.test(url);
}

/** HttpStatusError is what the PromQL reader throws for a non-2xx answer, for classify. */
export class HttpStatusError extends Error {
  constructor(readonly statusCode: number, readonly detail: string) {
    super(`HTTP ${statusCode}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * classify turns a failure of a request to the storage server into a coded RemonError:
 * UNREACHABLE (no connection, timeout), UNAVAILABLE (429, 5xx), REFUSED (401, 403, 404,
 * other 4xx), REJECTED (400, 422 on a write: the data itself), QUERY (4xx on a read).
 */
export function classify(err: unknown, url: string, op: 'write' | 'read', lines = 0): RemonError {
  if (err instanceof RemonError) return err;
  const status = err instanceof HttpError ? err.statusCode : err instanceof HttpStatusError ? err.statusCode : undefined;
  if (status !== undefined) {
    const detail = shorten(err instanceof HttpStatusError ? err.detail : httpDetail(err as HttpError));
    const what = `${url} answered HTTP ${status}${detail ? ` (${detail})` : ''}`;
    if (status === 429 || status >= 500) return createError('REMON_ERR_STORE_UNAVAILABLE', `${what}; will retry`, err);
    if (op === 'write' && (status === 400 || status === 422)) {
      return createError('REMON_ERR_STORE_REJECTED', `${what}: ${lines} line${lines === 1 ? '' : 's'} rejected as malformed and dropped`, err);
    }
    if (status === 401 || status === 403) return createError('REMON_ERR_STORE_REFUSED', `${what}; check storage.token`, err);
    if (status === 404 && op === 'write') return createError('REMON_ERR_STORE_REFUSED', `${what}; check storage.url, org and bucket`, err);
    if (op === 'read') return createError('REMON_ERR_STORE_QUERY', what, err);
    return createError('REMON_ERR_STORE_REFUSED', what, err);
  }
  const code = networkCode(err);
  const name = (err as { name?: string })?.name;
  if (name === 'RequestTimedOutError' || name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return createError('REMON_ERR_STORE_UNREACHABLE', `cannot reach ${url}: request timed out`, err);
  }
  if (code !== undefined || name === 'AbortError' || (err instanceof TypeError && /fetch failed/.test(err.message))) {
    const cause = (err as { cause?: unknown }).cause;
    const message = cause instanceof Error ? cause.message : errorMessage(err);
    return createError('REMON_ERR_STORE_UNREACHABLE', `cannot reach ${url}: ${message || code}`, err);
  }
  return createError(op === 'read' ? 'REMON_ERR_STORE_QUERY' : 'REMON_ERR_STORE_UNREACHABLE', `${op} to ${url} failed: ${errorMessage(err)}`, err);
}

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    if (Array.isArray((e as { errors?: unknown[] }).errors)) {
      // AggregateError from happy eyeballs: take the first coded one.
      for (const sub of (e as { errors: Array<{ code?: unknown }> }).errors) if (typeof sub?.code === 'string') return sub.code;
    }
  }
  return undefined;
}

function httpDetail(err: HttpError): string {
  const json = err.json as { message?: unknown; error?: unknown } | undefined;
  if (json && typeof json.message === 'string') return json.message;
  if (json && typeof json.error === 'string') return json.error;
  return (err.body ?? '').trim();
}

function shorten(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 197)}...` : one;
}
