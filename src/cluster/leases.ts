import Redis from 'ioredis';
import type { Clock } from '../clock';
import type { BlockConfig } from '../config/types';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { Placement } from '../engine/placement';
import { CLAIM, TICK } from './scripts';

/** LeaseOptions: where the cluster lives, who this node is, and how long a lease lasts. */
export interface LeaseOptions {
  url: string;
  /** `<shared.prefix>cluster:<name>:` */
  prefix: string;
  node: string;
  ttlMs: number;
  slots: number;
  clock: Clock;
  log: Logger;
  /** changed is called when this node's slots changed (the engine starts and stops blocks). */
  changed: () => void;
}

/** slotOf hashes a block name into one of n slots (FNV-1a, 32 bits). */
export function slotOf(name: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}

type TickReply = [string[], string[], string[]];

interface ClusterRedis extends Redis {
  remonClusterTick(members: string, fence: string, ...args: Array<string | number>): Promise<TickReply>;
  remonClusterClaim(key: string, field: string, kind: string, ttlMs: number): Promise<number>;
}

/**
 * ClusterLeases is this node's membership and slot leases. Every ttl/3 one TICK renews
 * them (taking the slots rendezvous hashing gives this node when they are free, releasing
 * the ones it stopped running); the answer says which slots it holds. It runs a slot's
 * blocks only while the lease is surely its own: until `ttl - margin` after the tick that
 * renewed it was *sent* (the server's expiry is later than that), so when renewals fail
 * (Redis away, the node paused) it stops before any other node can take the slot. A slot
 * that should move to another node (a node returned) is stopped at once and released at
 * the next tick, so the new owner starts at least a tick after the old one stopped.
 */
export class ClusterLeases implements Placement {
  readonly name = 'cluster';
  private readonly redis: ClusterRedis;
  private readonly slotCache = new Map<string, number>();
  /** The slots this node runs the blocks of now. */
  private held = new Set<number>();
  /** Slots held here that another node should own: stopped, released at the next tick. */
  private draining = new Set<number>();
  private heldUntil = 0;
  private tickTimer?: unknown;
  private expiryTimer?: unknown;
  private ticking?: Promise<void>;
  private stopped = false;
  private failing = false;
  /** The last answer: live members, slot owners (`node|token`), desired owners. */
  members: string[] = [];
  owners: string[] = [];
  desired: string[] = [];
  lastTickAt?: number;
  readonly counts = { ticks: 0, failures: 0, gained: 0, lost: 0, lapses: 0, claims: 0, claimed: 0, claimFailures: 0 };

  constructor(private readonly o: LeaseOptions) {
    this.redis = new Redis(o.url, {
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(500, Math.floor(o.ttlMs / 3)),
      connectTimeout: 3000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    }) as ClusterRedis;
    this.redis.on('error', () => {}); // a failed tick reports it
    this.redis.defineCommand('remonClusterTick', { numberOfKeys: 2, lua: TICK });
    this.redis.defineCommand('remonClusterClaim', { numberOfKeys: 1, lua: CLAIM });
  }

  /** renewing: the last renewal worked. */
  get renewing(): boolean {
    return !this.failing && this.lastTickAt !== undefined;
  }

  private get margin(): number {
    return Math.max(100, Math.floor(this.o.ttlMs / 5));
  }

  /** slot is a block's slot (cached: runsHere is asked for every block at each change). */
  slot(name: string): number {
    let s = this.slotCache.get(name);
    if (s === undefined) this.slotCache.set(name, (s = slotOf(name, this.o.slots)));
    return s;
  }

  /** runsHere: a block pinned with from: is not the cluster's to place; any other runs where its slot is held. */
  runsHere(b: BlockConfig): boolean {
    return b.from !== undefined || this.held.has(this.slot(b.name));
  }

  /** heldSlots: the slots this node runs now. */
  heldSlots(): ReadonlySet<number> {
    return this.held;
  }

  /** start makes the first tick (so the node starts with its share) and plans the next ones. */
  async start(): Promise<void> {
    await this.tick();
    this.plan();
  }

  private plan(): void {
    if (this.stopped) return;
    this.tickTimer = this.o.clock.setTimer(() => {
      void this.tick().finally(() => this.plan());
    }, Math.max(50, Math.floor(this.o.ttlMs / 3)));
  }

  /** tick renews the leases once; a failure is counted and logged once until a tick succeeds. */
  tick(leave = false): Promise<void> {
    if (this.ticking) return this.ticking;
    const p = this.doTick(leave).finally(() => {
      this.ticking = undefined;
    });
    this.ticking = p;
    return p;
  }

  private async doTick(leave: boolean): Promise<void> {
    const sentAt = this.o.clock.now();
    const release = [...this.draining];
    let reply: TickReply;
    try {
      reply = await this.redis.remonClusterTick(
        `${this.o.prefix}members`, `${this.o.prefix}fence`, `${this.o.prefix}slot:`, this.o.node, this.o.ttlMs, this.o.slots, leave ? 1 : 0, ...release,
      );
    } catch (err) {
      this.counts.failures++;
      if (!this.failing) {
        this.failing = true;
        this.o.log.warn({ err: errorMessage(err), until: new Date(this.heldUntil).toISOString() }, 'cluster lease renewal failed; this node keeps its blocks until its leases could lapse, then stops them');
      }
      return;
    }
    if (this.stopped && !leave) return; // stop() leaves next; this answer must not start blocks again
    if (this.failing) this.o.log.info({}, 'cluster lease renewal works again');
    this.failing = false;
    this.counts.ticks++;
    this.lastTickAt = sentAt;
    for (const s of release) this.draining.delete(s);
    const [members, owners, desired] = reply;
    this.members = members;
    this.owners = owners;
    this.desired = desired;
    const mine = `${this.o.node}|`;
    const next = new Set<number>();
    for (let s = 0; s < owners.length; s++) {
      if (!owners[s].startsWith(mine)) continue;
      if (desired[s] === this.o.node && !leave) next.add(s);
      else this.draining.add(s);
    }
    if (!leave) {
      this.heldUntil = sentAt + this.o.ttlMs - this.margin;
      this.armExpiry();
    }
    this.setHeld(leave ? new Set() : next);
  }

  /** armExpiry stops every block at heldUntil unless a tick renewed the leases by then. */
  private armExpiry(): void {
    if (this.expiryTimer !== undefined) this.o.clock.clearTimer(this.expiryTimer);
    this.expiryTimer = this.o.clock.setTimer(() => {
      this.expiryTimer = undefined;
      if (this.stopped || this.held.size === 0) return;
      this.counts.lapses++;
      this.o.log.warn({ slots: this.held.size }, 'cluster leases not renewed in time; stopped this node\'s blocks so that no two nodes run them');
      this.setHeld(new Set());
    }, Math.max(0, this.heldUntil - this.o.clock.now()));
  }

  private setHeld(next: Set<number>): void {
    let gained = 0;
    let lost = 0;
    for (const s of next) if (!this.held.has(s)) gained++;
    for (const s of this.held) if (!next.has(s)) lost++;
    if (gained === 0 && lost === 0) return;
    this.counts.gained += gained;
    this.counts.lost += lost;
    this.held = next;
    this.o.log.info({ slots: next.size, gained, lost, members: this.members.length }, 'cluster slots changed');
    this.o.changed();
  }

  /**
   * claim takes one notification for this node cluster-wide (see CLAIM). When Redis cannot
   * answer, the node sends anyway: a notification twice is better than none.
   */
  async claim(alertKey: string, field: string, kind: string, ttlMs: number): Promise<boolean> {
    this.counts.claims++;
    try {
      const won = (await this.redis.remonClusterClaim(`${this.o.prefix}claim:${alertKey}`, field, kind, ttlMs)) === 1;
      if (won) this.counts.claimed++;
      return won;
    } catch (err) {
      this.counts.claimFailures++;
      this.o.log.warn({ alert: alertKey, err: errorMessage(err) }, 'cluster notification claim failed; sending anyway');
      return true;
    }
  }

  /** stop stops this node's blocks, then leaves: its membership and slots go to the others at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer !== undefined) this.o.clock.clearTimer(this.tickTimer);
    if (this.expiryTimer !== undefined) this.o.clock.clearTimer(this.expiryTimer);
    this.setHeld(new Set());
    await this.ticking?.catch(() => undefined);
    if (this.redis.status === 'ready') await this.tick(true);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
