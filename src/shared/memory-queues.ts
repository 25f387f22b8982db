import { checkName, checkQueueOptions, decode, DEFAULT_VISIBILITY_MS, encode } from './common';
import { ConsumeOptions, Delivery, Json, QueueOptions, Queues } from './shared';

interface Entry {
  seq: number;
  id: string;
  /** Infinity when the message has no maxAge. */
  expiresAt: number;
  text: string;
  /** Set when shifted out of its list or log, so a pending delivery of it is dropped. */
  removed: boolean;
}

interface Pending {
  entry: Entry;
  consumer: string;
  deliveredAt: number;
}

interface Group {
  /** The seq of the newest entry delivered to the group. */
  lastSeq: number;
  /** Delivered, unacknowledged entries by id, in delivery order (oldest delivery first). */
  pending: Map<string, Pending>;
}

/** Deque is a list of entries from `head` on; popped slots before head are reclaimed in bulk. */
class Deque {
  items: Entry[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  shift(): Entry | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items[this.head];
    this.items[this.head++] = undefined as unknown as Entry;
    e.removed = true;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  pop(): Entry | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items.pop()!;
    e.removed = true;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return e;
  }

  /** dropExpired removes expired messages from the oldest end. */
  dropExpired(now: number): void {
    while (this.head < this.items.length && this.items[this.head].expiresAt <= now) this.shift();
  }

  /** indexAfter is the index of the first entry with seq > seq (entries are in seq order). */
  indexAfter(seq: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Queue: the list that push/pop/peek work on, and, once the queue has a consumer group,
 * the group log the groups read (as the Redis backend: a list and a stream).
 */
class Queue {
  readonly list = new Deque();
  log?: Deque;
  readonly groups = new Map<string, Group>();
  readonly waiters = new Set<() => void>();

  /** trimLog drops the log entries every group is done with. */
  trimLog(): void {
    if (!this.log) return;
    let min = Infinity;
    for (const g of this.groups.values()) {
      let keep = g.lastSeq + 1;
      for (const p of g.pending.values()) keep = Math.min(keep, p.entry.seq);
      min = Math.min(min, keep);
    }
    while (this.log.length > 0 && this.log.items[this.log.head].seq < min) this.log.shift();
  }
}

/** MemoryQueues: the in-process queues and consumer groups. */
export class MemoryQueues implements Queues {
  private readonly queues = new Map<string, Queue>();
  private seq = 0;
  private closed = false;

  async push(name: string, message: Json, options: QueueOptions = {}): Promise<number> {
    checkName('queue', name);
    checkQueueOptions(options);
    const text = encode(message);
    const q = this.queue(name);
    const now = Date.now();
    const seq = ++this.seq;
    const expiresAt = options.maxAgeMs !== undefined ? now + options.maxAgeMs : Infinity;
    q.list.items.push({ seq, id: String(seq), expiresAt, text, removed: false });
    q.list.dropExpired(now);
    if (options.maxLength !== undefined) while (q.list.length > options.maxLength) q.list.shift();
    if (q.log) {
      q.log.items.push({ seq, id: String(seq), expiresAt, text, removed: false });
      if (options.maxLength !== undefined) while (q.log.length > options.maxLength) q.log.shift();
    }
    for (const wake of [...q.waiters]) wake();
    return q.list.length;
  }

  async popOldest(name: string): Promise<Json | undefined> {
    const q = this.live(name);
    return decode(q?.list.shift()?.text);
  }

  async popNewest(name: string): Promise<Json | undefined> {
    const q = this.live(name);
    return decode(q?.list.pop()?.text);
  }

  async peek(name: string, n = Infinity): Promise<Json[]> {
    const q = this.live(name);
    if (!q || n <= 0) return [];
    const now = Date.now();
    const from = Math.max(q.list.head, q.list.items.length - n);
    return q.list.items.slice(from).filter((e) => e.expiresAt > now).map((e) => decode(e.text)!);
  }

  async length(name: string): Promise<number> {
    return this.live(name)?.list.length ?? 0;
  }

  async all(name: string): Promise<Json[]> {
    return this.peek(name);
  }

  async names(): Promise<string[]> {
    const now = Date.now();
    const out: string[] = [];
    for (const [name, q] of this.queues) {
      q.list.dropExpired(now);
      if (q.list.length > 0) out.push(name);
    }
    return out.sort();
  }

  async consume(name: string, group: string, consumer: string, options: ConsumeOptions = {}): Promise<Delivery[]> {
    checkName('queue', name);
    checkName('group', group);
    checkName('consumer', consumer);
    const count = Math.max(1, options.count ?? 1);
    const visibilityMs = options.visibilityMs ?? DEFAULT_VISIBILITY_MS;
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    const q = this.queue(name);
    if (!q.log) {
      // The first group's log starts with what the list holds.
      q.list.dropExpired(Date.now());
      q.log = new Deque();
      for (let i = q.list.head; i < q.list.items.length; i++) q.log.items.push({ ...q.list.items[i] });
    }
    const log = q.log;
    let g = q.groups.get(group);
    if (!g) q.groups.set(group, (g = { lastSeq: 0, pending: new Map() }));
    for (;;) {
      const now = Date.now();
      const out: Delivery[] = [];
      // Redeliveries first: the pending map is in delivery order, so the idle ones lead.
      for (const [id, p] of g.pending) {
        if (out.length >= count || now - p.deliveredAt < visibilityMs) break;
        g.pending.delete(id);
        if (p.entry.removed || p.entry.expiresAt <= now) continue;
        g.pending.set(id, { entry: p.entry, consumer, deliveredAt: now });
        out.push({ id, message: decode(p.entry.text)!, redelivered: true });
      }
      for (let i = log.indexAfter(g.lastSeq); out.length < count && i < log.items.length; i++) {
        const e = log.items[i];
        g.lastSeq = e.seq;
        if (e.expiresAt <= now) continue;
        g.pending.set(e.id, { entry: e, consumer, deliveredAt: now });
        out.push({ id: e.id, message: decode(e.text)!, redelivered: false });
      }
      q.trimLog();
      if (out.length > 0 || now >= deadline || this.closed) return out;
      // Sleep until a push, the first pending delivery times out, or the deadline.
      const first = g.pending.values().next().value as Pending | undefined;
      const until = Math.min(deadline, first ? first.deliveredAt + visibilityMs : deadline);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          q.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, until - now));
        q.waiters.add(done);
      });
    }
  }

  async ack(name: string, group: string, ids: string | readonly string[]): Promise<number> {
    const g = this.queues.get(name)?.groups.get(group);
    if (!g) return 0;
    let n = 0;
    for (const id of typeof ids === 'string' ? [ids] : ids) if (g.pending.delete(id)) n++;
    return n;
  }

  async pending(name: string, group: string): Promise<number> {
    return this.queues.get(name)?.groups.get(group)?.pending.size ?? 0;
  }

  /** close wakes consumers that wait, so they return. */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) for (const wake of [...q.waiters]) wake();
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = new Queue()));
    return q;
  }

  /** live is a queue with its expired messages dropped, or undefined when it never existed. */
  private live(name: string): Queue | undefined {
    const q = this.queues.get(name);
    q?.list.dropExpired(Date.now());
    return q;
  }
}
