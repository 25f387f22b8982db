import type { WebSocket } from 'ws';
import { createError } from '../errors';
import type { LiveHub, LiveSub } from '../live/hub';
import { Outbox } from '../live/outbox';
import { checkTopic, MAX_NAMES, nameCount } from '../live/topics';
import type { Invoke } from './protocol';
import { answer, failure, parse } from './protocol';

/** serialize renders an answer; one whose result is not JSON (a BigInt, a cycle) becomes an internal error. */
function serialize(a: unknown): string {
  try {
    return JSON.stringify(a);
  } catch (err) {
    return JSON.stringify(failure(null, err));
  }
}

/** ConnectionLimits bound what one WebSocket client may hold. */
export interface ConnectionLimits {
  /** Subscriptions at once (default 100). */
  subscriptions: number;
  /** Messages being answered at once (default 16); more are refused with REMON_ERR_RPC_LIMIT. */
  inFlight: number;
  /** Unsent bytes past which the client is too slow and is dropped (default 16 MB). */
  maxBuffered: number;
  /** Unsent bytes past which live events wait (and the oldest drop): the outbox's slowBytes (default 1 MB). */
  slowBytes: number;
  /** Live events held per connection (default 10,000). */
  maxEvents: number;
  /** How long after the first event a batch of them goes out (default 20 ms). */
  flushMs: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  subscriptions: 100, inFlight: 16, maxBuffered: 16 * 1024 * 1024, slowBytes: 1024 * 1024, maxEvents: 10_000, flushMs: 20,
};

/**
 * RpcConnection is one client on the WebSocket /rpc: JSON-RPC requests and batches (the
 * same as POST /rpc, with the rights the upgrade request had), plus `live.subscribe` and
 * `live.unsubscribe`, whose events it sends as `live` notifications through its Outbox.
 * Everything it holds is bounded; a client that stops reading for good is cut off.
 */
export class RpcConnection {
  private readonly subs = new Map<string, LiveSub>();
  private readonly out: Outbox;
  private names = 0;
  private inFlight = 0;
  private closed = false;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly hub: LiveHub,
    private readonly invoke: Invoke,
    private readonly limits: ConnectionLimits,
  ) {
    this.out = new Outbox({
      send: (text) => this.send(text),
      buffered: () => ws.bufferedAmount,
      maxEvents: limits.maxEvents,
      flushMs: limits.flushMs,
      slowBytes: limits.slowBytes,
    });
    ws.on('message', (data, isBinary) => this.message(isBinary ? undefined : String(data)));
    ws.on('pong', () => { this.alive = true; });
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
  }

  /** stats: subscriptions held, the outbox's figures, and the bytes sent but not yet taken by the client. */
  get stats(): { subscriptions: number; sent: number; dropped: number; held: number; buffered: number } {
    return { subscriptions: this.subs.size, ...this.out.stats, buffered: this.ws.bufferedAmount };
  }

  private message(text: string | undefined): void {
    if (this.closed) return;
    if (text === undefined) {
      this.send(JSON.stringify(failure(null, createError('REMON_ERR_RPC_PARSE', 'parse error: binary messages are not JSON-RPC; send text'))));
      return;
    }
    let parsed;
    try {
      parsed = parse(text);
    } catch (err) {
      this.send(JSON.stringify(failure(null, err)));
      return;
    }
    if (this.inFlight >= this.limits.inFlight) {
      const busy = createError('REMON_ERR_RPC_LIMIT', `too many calls in flight on this connection (at most ${this.limits.inFlight} messages at once); wait for answers`);
      const answers = parsed.items.flatMap((it) => ('answer' in it ? [it.answer] : it.call.id === undefined ? [] : [failure(it.call.id, busy)]));
      if (answers.length > 0) this.send(JSON.stringify(parsed.batch ? answers : answers[0]));
      return;
    }
    this.inFlight++;
    void answer(parsed, (call) => this.call(call.method, call.params, call))
      .then((a) => { if (a !== undefined) this.send(serialize(a)); })
      .finally(() => { this.inFlight--; });
  }

  private call(method: string, params: Record<string, unknown>, call: Parameters<Invoke>[0]): Promise<unknown> {
    if (method === 'live.subscribe') return this.subscribe(params);
    if (method === 'live.unsubscribe') return Promise.resolve(this.unsubscribe(params));
    return this.invoke(call);
  }

  private async subscribe(params: Record<string, unknown>): Promise<{ subscription: string }> {
    const p = checkTopic(params);
    if (this.subs.size >= this.limits.subscriptions) {
      throw createError('REMON_ERR_RPC_LIMIT', `this connection has ${this.subs.size} subscriptions, the most it may hold; unsubscribe from one first`);
    }
    const n = nameCount(p);
    if (this.names + n > MAX_NAMES) {
      throw createError('REMON_ERR_RPC_LIMIT', `this connection would subscribe to ${this.names + n} names; at most ${MAX_NAMES} over all its subscriptions`);
    }
    this.names += n;
    let sub: LiveSub;
    try {
      sub = await this.hub.subscribe(this.out, p);
    } catch (err) {
      this.names -= n;
      throw err;
    }
    if (this.closed) {
      this.hub.unsubscribe(sub);
      throw createError('REMON_ERR_UNAVAILABLE', 'the connection closed');
    }
    this.subs.set(sub.id, sub);
    return { subscription: sub.id };
  }

  private unsubscribe(params: Record<string, unknown>): { subscription: string; unsubscribed: boolean } {
    const keys = Object.keys(params).filter((k) => k !== 'subscription');
    if (keys.length > 0) throw createError('REMON_ERR_OP_PARAMS', `live.unsubscribe takes "subscription" only, not "${keys[0].slice(0, 50)}"`);
    const id = params.subscription;
    if (typeof id !== 'string') throw createError('REMON_ERR_OP_PARAMS', 'live.unsubscribe: subscription must be the id live.subscribe answered');
    const sub = this.subs.get(id);
    if (!sub) return { subscription: id, unsubscribed: false };
    this.subs.delete(id);
    this.names -= nameCount(sub.params);
    this.hub.unsubscribe(sub);
    return { subscription: id, unsubscribed: true };
  }

  /** send writes a message; a client holding more than maxBuffered unread bytes is cut off. */
  private send(text: string): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.limits.maxBuffered) {
      this.ws.terminate();
      this.close();
      return;
    }
    this.ws.send(text);
  }

  /** ping checks the client still answers (called every 30 s); one that did not answer the last is cut off. */
  ping(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** close ends the subscriptions and lets go of what the outbox holds. */
  close(code?: number, reason?: string): void {
    if (code !== undefined && !this.closed) this.ws.close(code, reason);
    if (this.closed) return;
    this.closed = true;
    for (const sub of this.subs.values()) this.hub.unsubscribe(sub);
    this.subs.clear();
    this.out.close();
  }
}
