/**
 * Outbox holds one connection's live events until they are sent: events that arrive
 * together go out together (one notification per subscription, FLUSH_MS after the first),
 * and a client that does not read loses the oldest events, not the node's memory.
 */

/** OutboxOptions: how to send, how far behind the client is, and the bounds. */
export interface OutboxOptions {
  /** send writes one message to the client. */
  send(text: string): void;
  /** buffered is how many bytes the transport holds unsent (WebSocket bufferedAmount). */
  buffered(): number;
  /** The most events held (default 10,000); past it the oldest are dropped and counted. */
  maxEvents?: number;
  /** How long after the first event a batch goes out (default 20 ms). */
  flushMs?: number;
  /** Above this many unsent bytes the client is slow: events wait (and the oldest drop) until it reads (default 1 MB). */
  slowBytes?: number;
}

/** OutboxStats: events sent and dropped, and held now. */
export interface OutboxStats {
  sent: number;
  dropped: number;
  held: number;
}

/**
 * Outbox is bounded: it holds at most maxEvents events, and sends while the transport
 * holds less than slowBytes unsent; so a connection costs at most about maxEvents events
 * plus slowBytes plus one flush, however long its client stops reading. The first events
 * a subscription gets after a loss start with `{dropped: n}`.
 */
export class Outbox {
  private subs: string[] = [];
  private events: unknown[] = [];
  private head = 0;
  private readonly dropped = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly maxEvents: number;
  private readonly flushMs: number;
  private readonly slowBytes: number;
  readonly stats: OutboxStats = { sent: 0, dropped: 0, held: 0 };

  constructor(private readonly o: OutboxOptions) {
    this.maxEvents = o.maxEvents ?? 10_000;
    this.flushMs = o.flushMs ?? 20;
    this.slowBytes = o.slowBytes ?? 1024 * 1024;
  }

  /** push holds an event of a subscription; the oldest held event drops when the outbox is full. */
  push(sub: string, event: unknown): void {
    if (this.closed) return;
    if (this.subs.length - this.head >= this.maxEvents) {
      const lost = this.subs[this.head];
      this.subs[this.head] = '';
      this.events[this.head] = undefined;
      this.head++;
      this.dropped.set(lost, (this.dropped.get(lost) ?? 0) + 1);
      this.stats.dropped++;
      if (this.head > 1024 && this.head * 2 > this.subs.length) this.compact();
    }
    this.subs.push(sub);
    this.events.push(event);
    this.stats.held = this.subs.length - this.head;
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** forget drops what is held for a subscription that ended. */
  forget(sub: string): void {
    this.compact();
    const keep = this.subs.map((s) => s !== sub);
    this.subs = this.subs.filter((_s, i) => keep[i]);
    this.events = this.events.filter((_e, i) => keep[i]);
    this.dropped.delete(sub);
    this.stats.held = this.subs.length;
  }

  /** close stops sending; what is held is let go. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.subs = [];
    this.events = [];
    this.head = 0;
    this.dropped.clear();
    this.stats.held = 0;
  }

  private compact(): void {
    if (this.head === 0) return;
    this.subs = this.subs.slice(this.head);
    this.events = this.events.slice(this.head);
    this.head = 0;
  }

  /** flush sends what is held, one notification per subscription, unless the client is behind. */
  private flush(): void {
    this.timer = undefined;
    if (this.closed) return;
    if (this.o.buffered() > this.slowBytes) {
      // The client is not reading: hold on (dropping the oldest past maxEvents) and look again later.
      this.timer = setTimeout(() => this.flush(), this.flushMs * 5);
      return;
    }
    const bySub = new Map<string, unknown[]>();
    for (const [sub, n] of this.dropped) bySub.set(sub, [{ dropped: n }]);
    this.dropped.clear();
    const { subs, events } = this;
    for (let i = this.head; i < subs.length; i++) {
      let list = bySub.get(subs[i]);
      if (!list) bySub.set(subs[i], (list = []));
      list.push(events[i]);
    }
    this.stats.sent += subs.length - this.head;
    this.subs = [];
    this.events = [];
    this.head = 0;
    this.stats.held = 0;
    for (const [subscription, list] of bySub) {
      this.o.send(`{"jsonrpc":"2.0","method":"live","params":${JSON.stringify({ subscription, events: list })}}`);
    }
  }
}
