import type { Result } from '../engine/result';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { Sample } from '../store/store';

/**
 * NodeEvent is something that happened in the node that others act on: an SLA changed
 * state (the alerts turn it into notifications), and next an alert was acknowledged.
 * `kind` is `area.what` (`sla.state`); `subject` names what it is about (the SLA).
 */
export interface NodeEvent {
  readonly kind: string;
  readonly subject: string;
  /** Epoch ms. */
  readonly at: number;
  /** One line for a person: what changed and the values that made it. */
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/**
 * BusMessage is what passes the bus: a block's Result with the samples it makes, samples
 * a subsystem derived from others (no `result`), or an event with the samples that go with
 * it (an SLA's `sla.<name>.ok`). Every sample of the node passes here.
 */
export interface BusMessage {
  /** The result the samples came from; absent for derived samples and events. */
  readonly result?: Result;
  readonly samples: readonly Sample[];
  readonly event?: NodeEvent;
}

/**
 * Handler receives every message. It is called synchronously by publish; a handler that
 * has slow work returns a promise, which the bus does not wait for (it counts it as
 * pending, and reports its rejection). A handler that must keep order across its own
 * asynchronous work keeps its own queue.
 */
export type Handler = (m: BusMessage) => void | Promise<void>;

/** SubscribeOptions: how many of a subscriber's deliveries may be pending at once. */
export interface SubscribeOptions {
  /** Deliveries beyond this many unsettled promises are dropped and counted (default 10,000). */
  maxPending?: number;
}

/** SubscriberStats is one subscriber as /api/bus and /metrics show it. */
export interface SubscriberStats {
  name: string;
  delivered: number;
  /** Deliveries that threw or rejected. */
  failures: number;
  /** Deliveries not made because maxPending promises were unsettled. */
  dropped: number;
  pending: number;
  /** The last failure (at: epoch ms), until the subscriber is removed. */
  lastError?: { message: string; at: number };
}

/** BusStats: messages published, and each subscriber. */
export interface BusStats {
  published: number;
  subscribers: SubscriberStats[];
}

interface Subscriber {
  readonly name: string;
  readonly handler: Handler;
  readonly maxPending: number;
  delivered: number;
  failures: number;
  dropped: number;
  pending: number;
  lastError?: { message: string; at: number };
  /** Error kinds (code or class) logged already: each is logged once. */
  readonly logged: Set<string>;
}

/** Subscription ends a subscriber's deliveries. */
export interface Subscription {
  unsubscribe(): void;
}

/**
 * Bus is the node's one in-process bus. Its subscribers (the store, pipe steps, and next
 * derive, SLA tests, the live hub and cluster forwarding) are isolated from each other: a
 * handler that throws or rejects is counted, logged once per kind of error and shown in
 * its stats; it neither delays nor stops the others, and nothing escapes as an unhandled
 * rejection. Deliveries are in subscription order, synchronously, so a message reaches the
 * store in the same tick it was published.
 */
export class Bus {
  private subscribers: Subscriber[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private published = 0;

  constructor(private readonly log?: Logger) {}

  /** subscribe adds a handler under a name (unique: it names the subscriber in stats). */
  subscribe(name: string, handler: Handler, options: SubscribeOptions = {}): Subscription {
    if (this.subscribers.some((s) => s.name === name)) throw new Error(`a bus subscriber is named "${name}" already`);
    const sub: Subscriber = {
      name, handler, maxPending: options.maxPending ?? 10_000, delivered: 0, failures: 0, dropped: 0, pending: 0, logged: new Set(),
    };
    // Copied on change, so a publish in progress keeps the list it started with.
    this.subscribers = [...this.subscribers, sub];
    return { unsubscribe: () => { this.subscribers = this.subscribers.filter((s) => s !== sub); } };
  }

  /** publish delivers a message to every subscriber; it never throws. */
  publish(m: BusMessage): void {
    this.published++;
    const subs = this.subscribers;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i];
      if (s.pending >= s.maxPending) {
        s.dropped++;
        this.report(s, 'REMON_ERR_BUS_BACKLOG', `${s.pending} deliveries pending; dropping until it catches up`);
        continue;
      }
      let out: void | Promise<void>;
      try {
        out = s.handler(m);
      } catch (err) {
        this.fail(s, err);
        continue;
      }
      s.delivered++;
      if (out !== undefined && typeof (out as Promise<void>).then === 'function') this.track(s, out as Promise<void>);
    }
  }

  /** drain resolves when every pending delivery has settled (the node drains before it stops). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stats(): BusStats {
    return {
      published: this.published,
      subscribers: this.subscribers.map((s) => ({
        name: s.name, delivered: s.delivered, failures: s.failures, dropped: s.dropped, pending: s.pending,
        ...(s.lastError && { lastError: { ...s.lastError } }),
      })),
    };
  }

  /** subscriber is one subscriber's stats, or undefined. */
  subscriber(name: string): SubscriberStats | undefined {
    return this.stats().subscribers.find((s) => s.name === name);
  }

  private track(s: Subscriber, p: Promise<void>): void {
    s.pending++;
    const settled: Promise<void> = p.then(
      () => undefined,
      (err) => this.fail(s, err),
    ).finally(() => {
      s.pending--;
      this.inFlight.delete(settled);
    });
    this.inFlight.add(settled);
  }

  private fail(s: Subscriber, err: unknown): void {
    s.failures++;
    const code = (err as { code?: unknown })?.code;
    const kind = typeof code === 'string' ? code : (err as Error)?.name ?? typeof err;
    this.report(s, kind, errorMessage(err));
  }

  /** report keeps the last error and logs each kind of error once per subscriber. */
  private report(s: Subscriber, kind: string, message: string): void {
    s.lastError = { message, at: Date.now() };
    if (s.logged.has(kind)) return;
    s.logged.add(kind);
    this.log?.error({ subscriber: s.name, kind, err: message }, 'bus subscriber failed (further errors of this kind are counted only)');
  }
}
