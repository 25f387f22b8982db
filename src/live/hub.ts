import type { BusMessage } from '../bus';
import type { StateStore, Unwatch } from '../shared/shared';
import type { Outbox } from './outbox';
import type { TopicParams } from './topics';

/** LiveSub is one subscription: its id, what it asked for, and the outbox of its connection. */
export interface LiveSub {
  readonly id: string;
  readonly params: TopicParams;
  readonly out: Outbox;
  /** events: the kinds it wants (all when undefined). */
  readonly kinds?: ReadonlySet<string>;
  unwatch?: Unwatch;
}

/** LiveStats: subscriptions by topic, and the events handed to outboxes. */
export interface LiveStats {
  subscriptions: Record<TopicParams['topic'], number>;
  events: number;
}

/** add puts a subscription in the set under a key. */
function add(index: Map<string, Set<LiveSub>>, key: string, sub: LiveSub): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(sub);
}

function remove(index: Map<string, Set<LiveSub>>, key: string, sub: LiveSub): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(sub);
  if (set.size === 0) index.delete(key);
}

/**
 * LiveHub is the bus subscriber behind live subscriptions: it indexes subscriptions by
 * series name, block name and event kind, and hands each matching sample, result or event
 * to the outbox of the connection that asked (which coalesces and bounds them). With no
 * subscriber a message costs a few size checks; a sample costs one Map lookup by its series
 * name. `state` subscriptions are watches on shared state, not bus deliveries.
 */
export class LiveHub {
  private readonly series = new Map<string, Set<LiveSub>>();
  private readonly blocks = new Map<string, Set<LiveSub>>();
  private readonly allBlocks = new Set<LiveSub>();
  private readonly events = new Set<LiveSub>();
  private readonly subs = new Set<LiveSub>();
  private next = 0;
  private handed = 0;

  constructor(private readonly state: StateStore) {}

  /** handle is the bus handler: samples to `series`, results to `blocks`, events to `events` subscribers. */
  handle(m: BusMessage): void {
    if (this.series.size !== 0) {
      const samples = m.samples;
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i];
        const subs = this.series.get(s.series);
        if (subs === undefined) continue;
        const ev = { name: s.series, t: s.t, value: s.value };
        for (const sub of subs) sub.out.push(sub.id, ev);
        this.handed += subs.size;
      }
    }
    const r = m.result;
    if (r !== undefined && (this.allBlocks.size !== 0 || this.blocks.size !== 0)) {
      const named = this.blocks.get(r.block);
      if (named !== undefined || this.allBlocks.size !== 0) {
        const ev = { block: r.block, t: r.startedAt, ok: r.ok, message: r.message, fields: r.fields, duration_ms: r.durationMs };
        for (const sub of this.allBlocks) sub.out.push(sub.id, ev);
        if (named) for (const sub of named) sub.out.push(sub.id, ev);
        this.handed += this.allBlocks.size + (named?.size ?? 0);
      }
    }
    const e = m.event;
    if (e !== undefined && this.events.size !== 0) {
      const ev = { kind: e.kind, subject: e.subject, at: e.at, message: e.message, data: e.data ?? {} };
      for (const sub of this.events) {
        if (sub.kinds && !sub.kinds.has(e.kind)) continue;
        sub.out.push(sub.id, ev);
        this.handed++;
      }
    }
  }

  /**
   * subscribe starts a subscription for a connection's outbox. A `state` one is in place
   * when the promise resolves (its watch is set); its events are `{bucket, key, value}`,
   * with `deleted: true` (and value null) for a deleted key.
   */
  async subscribe(out: Outbox, params: TopicParams): Promise<LiveSub> {
    const id = `${(++this.next).toString(36)}`;
    const kinds = params.topic === 'events' && params.kinds ? new Set(params.kinds) : undefined;
    const sub: LiveSub = { id, params, out, kinds };
    switch (params.topic) {
      case 'series':
        for (const n of params.names) add(this.series, n, sub);
        break;
      case 'blocks':
        if (params.names) for (const n of params.names) add(this.blocks, n, sub);
        else this.allBlocks.add(sub);
        break;
      case 'events':
        this.events.add(sub);
        break;
      case 'state':
        sub.unwatch = await this.state.watch(params.bucket, params.key, (c) => {
          out.push(id, c.value === undefined ? { bucket: c.bucket, key: c.key, value: null, deleted: true } : { bucket: c.bucket, key: c.key, value: c.value });
          this.handed++;
        });
        break;
    }
    this.subs.add(sub);
    return sub;
  }

  /** unsubscribe ends a subscription; a second call is harmless. */
  unsubscribe(sub: LiveSub): void {
    if (!this.subs.delete(sub)) return;
    const p = sub.params;
    if (p.topic === 'series') for (const n of p.names) remove(this.series, n, sub);
    if (p.topic === 'blocks') {
      if (p.names) for (const n of p.names) remove(this.blocks, n, sub);
      else this.allBlocks.delete(sub);
    }
    if (p.topic === 'events') this.events.delete(sub);
    sub.unwatch?.();
    sub.out.forget(sub.id);
  }

  stats(): LiveStats {
    const subscriptions = { series: 0, blocks: 0, events: 0, state: 0 };
    for (const s of this.subs) subscriptions[s.params.topic]++;
    return { subscriptions, events: this.handed };
  }
}
