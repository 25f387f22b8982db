import WebSocket from 'ws';
import { createError, errorMessage, RemonError } from '../errors';
import type { TopicParams } from '../live/topics';
import { checkUrl, DEFAULT_TIMEOUT_MS, remoteError, unreachable } from './client';
import { MAX_MESSAGE } from './protocol';
import type { RpcError } from './protocol';

/** LiveParams are the params of `live.subscribe`: a topic and what of it (docs/http.md "RPC"). */
export type LiveParams = TopicParams;

/** SessionOptions: the node, its token, and the session's bounds. */
export interface SessionOptions {
  url: string;
  token?: string;
  /** How long a call waits for its answer, queued time included (default 10 s). */
  timeoutMs?: number;
  /** Messages on the wire unanswered at once (default 16, the node's own limit per connection). */
  inFlight?: number;
  /** Calls waiting for a place on the wire (default 1000); more are refused with REMON_ERR_RPC_LIMIT. */
  maxQueued?: number;
  /** Reconnect delays: from minMs, doubling to maxMs, with jitter (default 100 ms .. 10 s). */
  backoff?: { minMs?: number; maxMs?: number };
  /** Told of every change of the connection's state, with the error that closed it. */
  onState?(state: SessionState, err?: RemonError): void;
}

/** SessionState: connecting (first or again), open, or closed for good (close() was called). */
export type SessionState = 'connecting' | 'open' | 'closed';

/** Subscription is a live subscription of the session; it outlives reconnects (resubscribed each time). */
export interface Subscription {
  readonly id: string;
  readonly params: LiveParams;
}

interface Sub extends Subscription {
  onEvents(events: unknown[]): void;
  /** The node's id for it on the current connection. */
  remote?: string;
}

interface Pending {
  text: string;
  method: string;
  deadline: number;
  resolve(v: unknown): void;
  reject(err: RemonError): void;
  /** Sent on the current connection (its answer is lost if the connection drops). */
  sent: boolean;
}

/**
 * RpcSession is a WebSocket JSON-RPC session with a node: calls (pipelined, at most
 * `inFlight` on the wire, the rest queued up to `maxQueued`), and live subscriptions whose
 * events go to a callback. When the connection drops it reconnects with backoff and
 * subscribes again; calls that were on the wire then fail with REMON_ERR_RPC_UNREACHABLE
 * (they may or may not have run), queued ones wait. close() ends it for good.
 */
export class RpcSession {
  readonly url: string;
  state: SessionState = 'connecting';
  /** Why the last connection failed or closed. */
  lastError?: RemonError;
  private ws?: WebSocket;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: number[] = [];
  private readonly subs = new Map<string, Sub>();
  private readonly byRemote = new Map<string, Sub>();
  private onWire = 0;
  private nextId = 1;
  private nextSub = 1;
  private attempt = 0;
  private retry?: NodeJS.Timeout;
  private readonly sweeper: NodeJS.Timeout;
  private readonly waiters = new Set<() => void>();
  private readonly timeoutMs: number;
  private readonly inFlight: number;
  private readonly maxQueued: number;

  constructor(private readonly o: SessionOptions) {
    this.url = checkUrl(o.url);
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.inFlight = o.inFlight ?? 16;
    this.maxQueued = o.maxQueued ?? 1000;
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.min(1000, this.timeoutMs / 4)));
    this.sweeper.unref();
    this.connect();
  }

  /** opened resolves once the session is open (now, or within timeoutMs), else rejects with the last error. */
  opened(timeoutMs = this.timeoutMs): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        if (this.state === 'open') resolve();
        else reject(this.lastError ?? createError('REMON_ERR_RPC_UNREACHABLE', `the session to ${this.url} is closed`));
      };
      const t = setTimeout(() => {
        this.waiters.delete(done);
        reject(this.lastError ?? createError('REMON_ERR_RPC_UNREACHABLE', `cannot reach the node at ${this.url}: not open within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** call calls a method over the WebSocket and resolves with its result; rejects with a RemonError. */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.state === 'closed') return Promise.reject(createError('REMON_ERR_RPC_UNREACHABLE', `${method}: the session to ${this.url} is closed`));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(createError('REMON_ERR_RPC_LIMIT', `${method}: ${this.queue.length} calls are waiting on the session to ${this.url}, the most it holds`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const text = `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
      this.pending.set(id, { text, method, deadline: Date.now() + this.timeoutMs, resolve: resolve as (v: unknown) => void, reject, sent: false });
      this.queue.push(id);
      this.pump();
    });
  }

  /**
   * subscribe subscribes to a live topic; onEvents gets each notification's events. The
   * subscription is made again on every reconnect (events while disconnected are lost).
   * While the node cannot be reached it is kept, and made when the session opens; one the
   * node refuses (bad params, over its limits) is dropped and rejects.
   */
  async subscribe(params: LiveParams, onEvents: (events: unknown[]) => void): Promise<Subscription> {
    const sub: Sub = { id: `c${this.nextSub++}`, params, onEvents };
    this.subs.set(sub.id, sub);
    if (this.state === 'open') {
      try {
        await this.remoteSubscribe(sub);
      } catch (err) {
        if ((err as RemonError).code !== 'REMON_ERR_RPC_UNREACHABLE') {
          this.subs.delete(sub.id);
          throw err;
        }
      }
    }
    return { id: sub.id, params };
  }

  /** unsubscribe ends a subscription (on the node too, when connected). */
  async unsubscribe(s: Subscription): Promise<void> {
    const sub = this.subs.get(s.id);
    if (!sub) return;
    this.subs.delete(s.id);
    if (sub.remote === undefined) return;
    this.byRemote.delete(sub.remote);
    if (this.state === 'open') await this.call('live.unsubscribe', { subscription: sub.remote });
  }

  /** close ends the session: pending calls fail, no reconnect. */
  close(): void {
    if (this.state === 'closed') return;
    this.setState('closed');
    clearInterval(this.sweeper);
    if (this.retry) clearTimeout(this.retry);
    this.ws?.close(1000);
    this.failAll(createError('REMON_ERR_RPC_UNREACHABLE', `the session to ${this.url} was closed`), true);
  }

  private async remoteSubscribe(sub: Sub): Promise<void> {
    const r = await this.call<{ subscription: string }>('live.subscribe', sub.params as unknown as Record<string, unknown>);
    if (!this.subs.has(sub.id)) {
      // Unsubscribed meanwhile.
      if (this.state === 'open') void this.call('live.unsubscribe', { subscription: r.subscription }).catch(() => undefined);
      return;
    }
    if (sub.remote !== undefined) this.byRemote.delete(sub.remote);
    sub.remote = r.subscription;
    this.byRemote.set(r.subscription, sub);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.setState('connecting');
    const headers = this.o.token ? { authorization: `Bearer ${this.o.token}` } : undefined;
    const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/rpc`, { headers, perMessageDeflate: false, maxPayload: 64 * MAX_MESSAGE, handshakeTimeout: this.timeoutMs });
    this.ws = ws;
    let failure: RemonError | undefined;
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      failure = status === 401
        ? createError('REMON_ERR_OP_UNAUTHORIZED', `the node at ${this.url} refused the WebSocket: HTTP 401 (give its token)`)
        : createError('REMON_ERR_RPC_UNREACHABLE', `the node at ${this.url} refused the WebSocket: HTTP ${status}`);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => { failure ??= unreachable(this.url, err, this.timeoutMs); });
    ws.on('open', () => {
      this.attempt = 0;
      this.lastError = undefined;
      this.setState('open');
      this.pump();
      for (const sub of this.subs.values()) {
        sub.remote = undefined;
        this.remoteSubscribe(sub).catch((err) => { this.lastError = err as RemonError; });
      }
    });
    ws.on('message', (data, isBinary) => { if (!isBinary) this.message(String(data)); });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.lastError = failure ?? createError('REMON_ERR_RPC_UNREACHABLE', `the WebSocket to ${this.url} closed (${code}${reason.length ? ` ${String(reason)}` : ''})`);
      this.byRemote.clear();
      this.failAll(this.lastError, false);
      if (this.state === 'closed') return;
      this.setState('connecting');
      const min = this.o.backoff?.minMs ?? 100;
      const max = this.o.backoff?.maxMs ?? 10_000;
      const delay = Math.min(max, min * 2 ** Math.min(this.attempt++, 20)) * (0.5 + Math.random() / 2);
      this.retry = setTimeout(() => this.connect(), delay);
      this.retry.unref();
    });
  }

  private setState(s: SessionState): void {
    if (this.state === s && s !== 'connecting') return;
    const changed = this.state !== s;
    this.state = s;
    if (changed) {
      try {
        this.o.onState?.(s, this.lastError);
      } catch {
        // A listener's failure is its own.
      }
    }
    if (s !== 'connecting') for (const w of [...this.waiters]) w();
  }

  /** pump sends queued calls while there is room on the wire. */
  private pump(): void {
    const ws = this.ws;
    if (this.state !== 'open' || !ws) return;
    while (this.onWire < this.inFlight && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const p = this.pending.get(id);
      if (!p) continue;
      p.sent = true;
      this.onWire++;
      ws.send(p.text);
    }
  }

  private message(text: string): void {
    let m: { id?: unknown; method?: string; params?: { subscription?: string; events?: unknown[] }; result?: unknown; error?: RpcError };
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (Array.isArray(m)) return;
    if (m.method === 'live') {
      const sub = this.byRemote.get(String(m.params?.subscription));
      if (sub && Array.isArray(m.params?.events)) {
        try {
          sub.onEvents(m.params!.events!);
        } catch (err) {
          this.lastError = createError('REMON_ERR_RPC_REMOTE', `a live subscription's handler threw: ${errorMessage(err)}`, err);
        }
      }
      return;
    }
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return;
    this.pending.delete(m.id as number);
    if (p.sent) this.onWire--;
    if (m.error) p.reject(remoteError(p.method, m.error));
    else p.resolve(m.result);
    this.pump();
  }

  /** failAll rejects the calls on the wire (and the queued ones too when `queued`). */
  private failAll(err: RemonError, queued: boolean): void {
    for (const [id, p] of this.pending) {
      if (!p.sent && !queued) continue;
      this.pending.delete(id);
      p.reject(createError(err.code, `${p.method}: ${err.message}`, err));
    }
    this.onWire = 0;
    if (queued) this.queue.length = 0;
  }

  /** sweep fails calls past their deadline. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(id);
      if (p.sent) this.onWire--;
      p.reject(createError('REMON_ERR_RPC_UNREACHABLE', `${p.method}: no answer from ${this.url} within ${this.timeoutMs / 1000}s`));
    }
    this.pump();
  }
}
