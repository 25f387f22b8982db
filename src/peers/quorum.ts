import type { Bus, BusMessage } from '../bus';
import type { Clock } from '../clock';
import type { BlockConfig } from '../config/types';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { Sample } from '../store/store';
import type { Federation } from './federation';

/** Heard is the last result of a block from one location: up or not, and when it arrived here. */
interface Heard {
  up: boolean;
  at: number;
}

/** QuorumBlock is one `from:` block this node runs, with what it heard from each location. */
interface QuorumBlock {
  name: string;
  locations: readonly string[];
  everyMs: number;
  heard: Map<string, Heard>;
  lastEmit: number;
  timer?: NodeJS.Timeout;
  /** An emit waiting for the second to be over (at most one). */
  later?: NodeJS.Timeout;
}

/** QuorumOptions: this node's name, its `from:` blocks, the federation (sessions to peers), the bus, the clock. */
export interface QuorumOptions {
  self: string;
  blocks: readonly BlockConfig[];
  federation: Federation;
  bus: Bus;
  clock: Clock;
  log: Logger;
}

/**
 * Quorum makes the quorum series of each block with `from: [nodes]` that this node runs:
 * it hears its own results on the bus, and each other listed node's results through a
 * `live.subscribe {topic: blocks}` on that peer's WebSocket session (one per peer, for all
 * the blocks they share). At most once a second per block (at once on a change, and every
 * `every` without one) it publishes on the bus, for the store and the SLAs:
 * `<block>.loc.<node>.up` (1 or 0) for each listed node, and `<block>.locations`,
 * `<block>.locations_up`, `<block>.locations_down`. A location not heard from within
 * 2× the block's `every` counts as down; after a start nothing is published until every
 * location was heard or 2× `every` passed, so a node starting is not an outage.
 */
export class Quorum {
  private readonly blocks = new Map<string, QuorumBlock>();
  private stopped = true;
  private startedAt = 0;

  constructor(private readonly o: QuorumOptions) {
    for (const b of o.blocks) {
      if (!b.from || !b.from.includes(o.self)) continue;
      this.blocks.set(b.name, { name: b.name, locations: [...b.from], everyMs: Math.max(1000, b.everyMs || 10_000), heard: new Map(), lastEmit: 0 });
    }
  }

  /** start listens: the bus (own results) and each other location's session; publishes every `every`. */
  start(): void {
    if (this.blocks.size === 0) return;
    this.stopped = false;
    this.startedAt = this.o.clock.now();
    this.o.bus.subscribe('quorum', (m) => this.local(m));
    const byPeer = new Map<string, string[]>();
    for (const b of this.blocks.values()) {
      for (const loc of b.locations) if (loc !== this.o.self) byPeer.set(loc, [...(byPeer.get(loc) ?? []), b.name]);
      b.timer = setInterval(() => this.emit(b), b.everyMs);
      b.timer.unref();
    }
    for (const [peer, names] of byPeer) {
      const session = this.o.federation.session(peer);
      if (!session) {
        this.o.log.warn({ peer, blocks: names }, `quorum: "${peer}" is listed in from: of ${names.join(', ')} but not under peers:; it counts as down`);
        continue;
      }
      session.subscribe({ topic: 'blocks', names }, (events) => this.remote(peer, events))
        .catch((err) => this.o.log.warn({ peer, err: errorMessage(err) }, `quorum: cannot subscribe to ${peer}'s results`));
    }
  }

  /** stop ends the timers (the sessions are the federation's). */
  stop(): void {
    this.stopped = true;
    for (const b of this.blocks.values()) {
      if (b.timer) clearInterval(b.timer);
      if (b.later) clearTimeout(b.later);
    }
  }

  private local(m: BusMessage): void {
    const r = m.result;
    if (r === undefined) return;
    const b = this.blocks.get(r.block);
    if (b) this.hear(b, this.o.self, r.ok);
  }

  private remote(peer: string, events: unknown[]): void {
    for (const ev of events) {
      const e = ev as { block?: unknown; ok?: unknown };
      const b = typeof e?.block === 'string' ? this.blocks.get(e.block) : undefined;
      if (b && b.locations.includes(peer)) this.hear(b, peer, e.ok === true);
    }
  }

  private hear(b: QuorumBlock, loc: string, up: boolean): void {
    const before = b.heard.get(loc);
    b.heard.set(loc, { up, at: this.o.clock.now() });
    if (before?.up !== up) this.emit(b);
  }

  /** samples are the quorum series of a block as of now. */
  samples(name: string, now = this.o.clock.now()): Sample[] {
    const b = this.blocks.get(name);
    if (!b) return [];
    const hb = Math.ceil((4 * b.everyMs) / 1000);
    let up = 0;
    const out: Sample[] = b.locations.map((loc) => {
      const h = b.heard.get(loc);
      const isUp = h !== undefined && h.up && now - h.at <= 2 * b.everyMs;
      if (isUp) up++;
      return { series: `${b.name}.loc.${loc}.up`, t: now, value: isUp ? 1 : 0, kind: 'gauge', heartbeat: hb };
    });
    const n = b.locations.length;
    out.push(
      { series: `${b.name}.locations`, t: now, value: n, kind: 'gauge', heartbeat: hb },
      { series: `${b.name}.locations_up`, t: now, value: up, kind: 'gauge', heartbeat: hb },
      { series: `${b.name}.locations_down`, t: now, value: n - up, kind: 'gauge', heartbeat: hb },
    );
    return out;
  }

  /** emit publishes a block's quorum samples, at most once a second (a change within it goes out when the second is over). */
  private emit(b: QuorumBlock): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    // Right after the start, a location not heard from yet is not down yet: wait for all, or 2× every.
    if (b.heard.size < b.locations.length && now - this.startedAt < 2 * b.everyMs) return;
    const wait = b.lastEmit + 1000 - now;
    if (wait > 0) {
      if (!b.later) {
        b.later = setTimeout(() => {
          b.later = undefined;
          this.emit(b);
        }, wait);
        b.later.unref();
      }
      return;
    }
    b.lastEmit = now;
    this.o.bus.publish({ samples: this.samples(b.name, now) });
  }
}
