import type { Clock } from '../clock';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { ChannelName } from '../notify/channels';
import type { AlertPayload, Notification } from '../notify/payload';
import type { ContactConfig, NotifyConfig } from './config';
import type { Alert, NoticeKind, Outcome } from './types';

/**
 * NotificationClaim decides whether this node sends one notification: a cluster answers
 * true for the first node to claim it (src/cluster). `alertKey` is the alert's identity on
 * every node (source, name, labels), `field` the notification within it
 * (`kind|step|contact|channel`, the step without the node's own alert id).
 */
export type NotificationClaim = (alertKey: string, field: string, kind: string) => Promise<boolean>;

/**
 * claimedBy is DispatchDeps.claim through a NotificationClaim: the deliveries this node
 * won. One whose alert is gone is kept (there is nothing to ask about).
 */
export function claimedBy(claim: NotificationClaim, alerts: ReadonlyMap<string, Alert>): (items: Delivery[]) => Promise<Delivery[]> {
  return async (items) => {
    const won = await Promise.all(items.map((d) => {
      const a = alerts.get(d.alertId);
      // The delivery key is `<alert id>:<step>|contact|channel`; the id is this node's own.
      return a ? claim(a.key, `${d.kind}|${d.key.slice(d.alertId.length + 1)}`, d.kind) : true;
    }));
    return items.filter((_d, i) => won[i]);
  };
}

/** Delivery is one step of one alert to one channel of one contact. */
export interface Delivery {
  /** `${step}|${contact}|${channel}`: its key in the notification log. */
  key: string;
  alertId: string;
  contact: string;
  channel: ChannelName;
  kind: NoticeKind;
  level: number;
  /** Deliveries of one group (escalation, contact, channel) waiting together go out as one notification. */
  group: string;
}

/** ReceiverState is one channel of one contact as /api/contacts shows it: a failing receiver is state, not a lost message. */
export interface ReceiverState {
  contact: string;
  channel: ChannelName;
  state: 'ok' | 'failing' | 'unknown';
  since: number;
  sent: number;
  failures: number;
  /** Deliveries waiting (grouped or between retries). */
  waiting: number;
  lastError?: string;
  lastSentAt?: number;
}

/** DispatchDeps: what the dispatcher needs of the alerts. */
export interface DispatchDeps {
  clock: Clock;
  log: Logger;
  node: () => string;
  notify: () => NotifyConfig;
  contact: (name: string) => ContactConfig | undefined;
  /** payload builds what a delivery says of its alert now (undefined: the alert is gone). */
  payload: (d: Delivery) => AlertPayload | undefined;
  /** stale: a firing delivery whose alert was acknowledged or resolved meanwhile (not sent). */
  stale: (d: Delivery) => boolean;
  send: (channel: ChannelName, contact: ContactConfig, n: Notification) => Promise<void>;
  /**
   * claim, when set, picks the deliveries this node sends (a cluster: the first node to
   * claim a notification sends it, the others skip it); it is asked once, before the first
   * attempt, and must not reject.
   */
  claim?: (items: Delivery[]) => Promise<Delivery[]>;
  /** record writes the deliveries' outcome to the notification log. */
  record: (items: Delivery[], outcome: Outcome, error?: string) => void;
}

interface Group {
  items: Delivery[];
  timer?: unknown;
}

/**
 * Dispatcher sends deliveries: those of one group that come within the group's wait go out
 * together as one notification; a failed send is tried again with doubling delays (retry,
 * retry_max) up to `attempts` times, and meanwhile the receiver shows as failing. Timers
 * run on the node's clock. Each outcome is written to the notification log once.
 */
export class Dispatcher {
  private readonly groups = new Map<string, Group>();
  private readonly queued = new Set<string>();
  private readonly waitingInGroup = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retries = new Set<unknown>();
  readonly receivers = new Map<string, ReceiverState>();
  readonly counts = { sent: 0, failed: 0, skipped: 0, attempts: 0, notifications: 0 };
  private stopped = false;

  constructor(private readonly d: DispatchDeps) {}

  /** enqueue adds a delivery to its group; the group goes out waitMs after its first delivery came. */
  enqueue(item: Delivery, waitMs: number): void {
    if (this.stopped || this.queued.has(item.key)) return;
    this.queued.add(item.key);
    this.receiver(item.contact, item.channel).waiting++;
    let g = this.groups.get(item.group);
    if (!g) {
      g = { items: [] };
      this.groups.set(item.group, g);
      const group = g;
      g.timer = this.d.clock.setTimer(() => this.flush(item.group, group), waitMs);
    }
    g.items.push(item);
    this.waitingInGroup.add(item.key);
  }

  /** grouped tells whether a delivery is waiting in its group (not out yet). */
  grouped(key: string): boolean {
    return this.waitingInGroup.has(key);
  }

  private flush(name: string, g: Group): void {
    if (this.groups.get(name) === g) this.groups.delete(name);
    for (const i of g.items) this.waitingInGroup.delete(i.key);
    this.track(this.deliver(g.items, 1));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private receiver(contact: string, channel: ChannelName): ReceiverState {
    const k = `${contact}/${channel}`;
    let r = this.receivers.get(k);
    if (!r) this.receivers.set(k, (r = { contact, channel, state: 'unknown', since: this.d.clock.now(), sent: 0, failures: 0, waiting: 0 }));
    return r;
  }

  private done(items: Delivery[], outcome: Outcome, error?: string): void {
    for (const i of items) {
      this.queued.delete(i.key);
      this.receiver(i.contact, i.channel).waiting--;
    }
    this.counts[outcome] += items.length;
    try {
      this.d.record(items, outcome, error);
    } catch (err) {
      this.d.log.error({ err: errorMessage(err) }, 'notification outcome not recorded');
    }
  }

  /**
   * deliver makes one attempt at a group. What each delivery says is built at the first
   * attempt and sent the same on every retry (the same ack link too), so a receiver that
   * took a notification it failed to answer can drop the repeat by its key.
   */
  private async deliver(all: Delivery[], attempt: number, built = new Map<string, AlertPayload>()): Promise<void> {
    const stale = all.filter((i) => this.d.stale(i));
    if (stale.length) this.done(stale, 'skipped', 'acknowledged or resolved before it went out');
    let items = all.filter((i) => !stale.includes(i));
    if (attempt === 1 && this.d.claim && items.length > 0) {
      const mine = await this.d.claim(items);
      const others = items.filter((i) => !mine.includes(i));
      if (others.length) this.done(others, 'skipped', 'another node of the cluster sent it');
      items = mine;
    }
    if (items.length === 0) return;
    const { contact: name, channel } = items[0];
    const contact = this.d.contact(name);
    for (const i of items) {
      const p = built.has(i.key) ? undefined : this.d.payload(i);
      if (p) built.set(i.key, p);
    }
    const payloads = items.map((i) => built.get(i.key)).filter((p): p is AlertPayload => p !== undefined);
    if (!contact || payloads.length === 0) {
      this.done(items, 'skipped', contact ? 'the alert is gone' : `contact ${name} is no longer configured`);
      return;
    }
    const r = this.receiver(name, channel);
    this.counts.attempts++;
    try {
      await this.d.send(channel, contact, { contact: name, node: this.d.node(), alerts: payloads });
    } catch (err) {
      const message = errorMessage(err);
      r.failures++;
      r.lastError = message;
      if (r.state !== 'failing') {
        r.state = 'failing';
        r.since = this.d.clock.now();
        this.d.log.warn({ contact: name, channel, err: message }, 'notification failed; retrying (further failures of this receiver are counted only)');
      }
      const n = this.d.notify();
      if (attempt >= n.attempts || this.stopped) {
        if (!this.stopped) this.done(items, 'failed', `${message} (after ${attempt} attempt${attempt === 1 ? '' : 's'})`);
        return;
      }
      const delay = Math.min(n.retryMaxMs, n.retryMs * 2 ** (attempt - 1));
      const timer = this.d.clock.setTimer(() => {
        this.retries.delete(timer);
        this.track(this.deliver(items, attempt + 1, built));
      }, delay);
      this.retries.add(timer);
      return;
    }
    if (r.state !== 'ok') {
      if (r.state === 'failing') this.d.log.info({ contact: name, channel }, 'receiver works again');
      r.state = 'ok';
      r.since = this.d.clock.now();
    }
    r.sent += items.length;
    r.lastSentAt = this.d.clock.now();
    this.counts.notifications++;
    this.done(items, 'sent');
  }

  /** waiting counts deliveries not settled (grouped, sending or between retries). */
  get waiting(): number {
    return this.queued.size;
  }

  /** idle resolves once no send is in flight (grouped and retrying deliveries wait on the clock). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** stop clears the timers (what is unsent is sent after a restart) and waits for sends in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.groups.values()) if (g.timer !== undefined) this.d.clock.clearTimer(g.timer);
    for (const t of this.retries) this.d.clock.clearTimer(t);
    this.groups.clear();
    this.waitingInGroup.clear();
    this.retries.clear();
    await this.idle();
  }
}
