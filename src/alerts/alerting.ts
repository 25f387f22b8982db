import * as path from 'node:path';
import { Clock, Deadlines, Timed } from '../clock';
import type { NodeEvent } from '../bus';
import type { Config } from '../config/types';
import { createError, errorMessage } from '../errors';
import type { Logger } from '../log';
import type { Shared } from '../shared/shared';
import type { Store } from '../store/store';
import { Channels, ChannelName, channelsOf } from '../notify/channels';
import type { AlertPayload, Notification } from '../notify/payload';
import { AckLinks, linkedAlert, loadKey } from './ack-link';
import { ActionRunner, SlaNow } from './action-runner';
import { actionsFromConfig, SlaActions } from './actions';
import { AlertBook } from './book';
import type { ContactConfig, EscalationConfig } from './config';
import { claimedBy, Delivery, DispatchDeps, Dispatcher, NotificationClaim } from './dispatch';
import { nextStep, PlannedStep } from './escalation';
import { stepContacts } from './oncall';
import { SilenceBook } from './silences';
import { alertStateEvent } from './events';
import { HeldAlerts } from './held';
import { alertPayload, nodeBaseUrl } from './payload';
import { alertKey } from './sources';
import { suppression } from './suppress';
import type { Alert, AlertRecord, NoticeKind, Step, Transition } from './types';

/** Slot is an alert's place in the deadline heap: its next escalation step or ack timeout. */
interface Slot extends Timed {
  id: string;
}

/** Sender is how a notification goes out (Channels; tests and benchmarks may count instead). */
export type Sender = (channel: ChannelName, contact: ContactConfig, n: Notification) => Promise<void>;

/** AlertingOptions: the node's config, clock and log; how to find an SLA's actions; how to send. */
export interface AlertingOptions {
  config: Config;
  clock: Clock;
  log: Logger;
  actions?: SlaActions;
  send?: Sender;
  /** publish hands on an `alert.state` event each time an alert changes state (the plugin puts it on the bus). */
  publish?: (e: NodeEvent) => void;
  /** Where actions' guards read and their runs are shared (a cluster decides each once); none: this node alone. */
  shared?: Shared;
  store?: Store;
  /** slaNow gives an SLA's current values for a repeated action's record. */
  slaNow?: SlaNow;
}

const isFiring = (a: Alert | undefined): boolean => a !== undefined && (a.state === 'firing' || a.state === 'acknowledged');

/**
 * Alerting turns SLA (and heartbeat) state changes into alerts and tells people: it keeps
 * the alerts (AlertBook, on the durable alert log), runs each firing alert's escalation on
 * the node's clock (Deadlines: one timer for all), holds what a silence or a depends_on
 * inhibits, groups and sends notifications (Dispatcher), takes acknowledgements (API, CLI,
 * signed links), resumes escalation after ack_timeout, and has SLA actions decided and run
 * (ActionRunner: cooldown, daily cap, guard, once in a cluster, repeats while firing).
 */
export class Alerting {
  private config: Config;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly book: AlertBook;
  readonly silences: SilenceBook;
  private readonly deadlines: Deadlines<Slot>;
  private readonly slots = new Map<string, Slot>();
  private readonly dispatcher: Dispatcher;
  private readonly dispatchDeps: DispatchDeps;
  private readonly channels?: Channels;
  private readonly actions: SlaActions;
  private readonly actionRunner: ActionRunner;
  private readonly publish?: (e: NodeEvent) => void;
  private readonly held = new HeldAlerts();
  /** SLA name → its alerts that fire (firing or acknowledged): what depends_on looks at. */
  private readonly firingSlas = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private blockOptions = new Map<string, Readonly<Record<string, unknown>>>();
  private links?: AckLinks;
  private queue: Transition[] = [];
  private started = false;
  private stopped = false;
  readonly counts = { transitions: 0, actions: 0, actionFailures: 0 };

  constructor(o: AlertingOptions) {
    this.config = o.config;
    this.clock = o.clock;
    this.log = o.log;
    this.actions = o.actions ?? actionsFromConfig;
    this.publish = o.publish;
    const dir = path.join(o.config.node.data, 'alerts');
    this.book = new AlertBook(dir, o.log);
    this.silences = new SilenceBook(this.book, o.clock, () => this.config, () => this.releaseHeld());
    this.deadlines = new Deadlines<Slot>(o.clock, (slot, now) => this.fire(slot, now));
    if (!o.send) this.channels = new Channels(o.log, () => this.config.notify.smtp);
    const send = o.send ?? ((ch, c, n) => this.channels!.send(ch, c, n));
    this.dispatchDeps = {
      clock: o.clock, log: o.log, send,
      node: () => this.config.node.name,
      notify: () => this.config.notify,
      contact: (name) => this.config.contacts[name],
      payload: (d) => this.payload(d),
      stale: (d) => d.kind === 'firing' && this.book.alerts.get(d.alertId)?.state !== 'firing',
      record: (items, r, e) => {
        const byAlert = new Map<string, string[]>();
        for (const i of items) byAlert.set(i.alertId, [...(byAlert.get(i.alertId) ?? []), i.key]);
        for (const [id, keys] of byAlert) this.write({ k: 'sent', id, keys, t: this.clock.now(), r, ...(e && { e }) });
      },
    };
    this.dispatcher = new Dispatcher(this.dispatchDeps);
    this.actionRunner = new ActionRunner({
      clock: o.clock, log: o.log, shared: o.shared, store: o.store, slaNow: o.slaNow, counts: this.counts,
      node: () => this.config.node.name,
      actions: (sla) => this.actions(this.config, sla),
      alert: (id) => this.book.alerts.get(id),
      times: (key) => this.book.actionTimes.get(key) ?? [],
      write: (r) => this.write(r),
      suppressedWhy: (a) => this.suppressedWhy(a),
      payload: (a, i) => this.payload({ key: `${a.id}:action${i}`, alertId: a.id, contact: '', channel: 'command', kind: 'firing', level: 0, group: '' })!,
      track: (p) => {
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      },
    });
    this.indexBlocks(o.config);
  }

  /**
   * useClaim makes every notification ask `claim` first (a cluster: one node sends each
   * notification of an incident, whichever nodes saw it); without one, this node sends all.
   */
  useClaim(claim: NotificationClaim): void {
    this.dispatchDeps.claim = claimedBy(claim, this.book.alerts);
  }

  /** start reads the alert log, arms every alert's timer and sends what a restart left unsent. */
  start(): void {
    const opened = this.book.open();
    this.links = new AckLinks(loadKey(path.join(this.config.node.data, 'alerts')));
    if (opened.skipped) this.log.warn({ skipped: opened.skipped }, 'alert log: skipped unreadable records');
    for (const a of this.book.alerts.values()) {
      if (isFiring(a) && a.source === 'sla') this.firingSlas.set(a.sla, (this.firingSlas.get(a.sla) ?? 0) + 1);
      for (const s of a.steps) this.enqueue(a, s);
    }
    this.started = true;
    for (const a of [...this.book.alerts.values()]) this.actionRunner.resumed(a);
    for (const id of this.book.active.values()) this.schedule(this.book.alerts.get(id)!);
    this.silences.start();
    if (opened.records > 0) this.book.compact();
    const queued = this.queue;
    this.queue = [];
    for (const t of queued) this.transition(t);
    this.log.info({ alerts: this.book.active.size, replayed: opened.records }, 'alerts loaded');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.deadlines.stop();
    this.actionRunner.stop();
    this.silences.stop();
    await this.dispatcher.stop();
    await Promise.allSettled([...this.inFlight]);
    this.channels?.close();
    this.book.close();
  }

  /** reload takes a new config: escalations, contacts, schedules and silences apply to the alerts at once. */
  reload(config: Config): void {
    this.config = config;
    this.indexBlocks(config);
    if (!this.started || this.stopped) return;
    this.silences.reload();
    for (const id of this.book.active.values()) this.schedule(this.book.alerts.get(id)!);
  }

  private indexBlocks(config: Config): void {
    this.blockOptions = new Map(config.blocks.filter((b) => b.type === 'heartbeat').map((b) => [b.name, b.options]));
  }

  /** heartbeatOptions are a heartbeat block's options (its escalate, severity, labels). */
  heartbeatOptions(name: string): Readonly<Record<string, unknown>> {
    return this.blockOptions.get(name) ?? {};
  }

  /** write records a change on the alert log and keeps the firing-SLA counts for depends_on. */
  private write(r: AlertRecord): void {
    const a = 'id' in r ? this.book.alerts.get(r.id) : undefined;
    const was = isFiring(a);
    const from = a?.state;
    this.book.write(r);
    const now = r.k === 'open' ? this.book.alerts.get(r.id) : a;
    if (now?.source === 'sla' && was !== isFiring(now)) {
      const n = (this.firingSlas.get(now.sla) ?? 0) + (was ? -1 : 1);
      if (n > 0) this.firingSlas.set(now.sla, n);
      else this.firingSlas.delete(now.sla);
    }
    if (now && this.publish && (r.k === 'open' || r.k === 'state') && now.state !== from) this.publish(alertStateEvent(now, from, r.t));
  }

  /** transition applies an SLA's (or heartbeat's) state change; it never throws. */
  transition(t: Transition): void {
    if (this.stopped) return;
    if (!this.started) {
      this.queue.push(t);
      return;
    }
    this.counts.transitions++;
    try {
      this.apply(t);
    } catch (err) {
      this.log.error({ sla: t.name, to: t.to, err: errorMessage(err) }, 'alert state change not recorded');
    }
  }

  private apply(t: Transition): void {
    const key = alertKey(t);
    const a = this.book.activeAlert(key);
    const v = t.value;
    if (t.to === 'pending' || t.to === 'firing') {
      if (!a) {
        const id = String(this.book.nextId);
        this.write({
          k: 'open', id, key, src: t.source, sla: t.name, labels: t.labels, sev: t.severity, ...(t.escalate && { esc: t.escalate }),
          dep: t.dependsOn, st: t.to, t: t.at, v, m: t.message, ...(!t.notify && { q: 1 as const }),
        });
        if (t.to === 'firing') this.fired(this.book.alerts.get(id)!);
      } else if (a.state === 'pending' && t.to === 'firing') {
        this.write({ k: 'state', id: a.id, st: 'firing', t: t.at, v, m: t.message });
        this.fired(a);
      }
      return;
    }
    if (!a) return;
    if (t.to === 'unknown') {
      this.write({ k: 'note', id: a.id, t: t.at, what: 'unknown', m: `${t.message} (not a resolution)` });
      return;
    }
    this.write({ k: 'state', id: a.id, st: 'resolved', t: t.at, v, m: t.message });
    this.notice(a, 'resolved');
    this.unschedule(a);
    this.actionRunner.resolved(a);
    const deps = a.source === 'sla' && !this.firingSlas.has(a.sla) ? this.held.dependents(a.sla) : undefined;
    if (deps) this.releaseHeld(deps);
  }

  /** fired: an alert began firing; its actions run and its escalation starts. */
  private fired(a: Alert): void {
    this.actionRunner.fired(a);
    this.schedule(a);
    // A first level due at once (after: 0s) goes out now, not a timer tick later.
    const slot = this.slots.get(a.id);
    const now = this.clock.now();
    if (slot && slot.alarm <= now) this.fire(slot, now);
  }

  /** escalationOf is an alert's escalation policy: its own, notify.default_escalation, or `default`. */
  escalationOf(a: Pick<Alert, 'escalate'>): EscalationConfig | undefined {
    const name = a.escalate ?? this.config.notify.defaultEscalation ?? 'default';
    return this.config.escalations[name];
  }

  /** suppressedWhy says why an alert is not told now (silence, depends_on), or undefined. */
  suppressedWhy(a: Alert): string | undefined {
    return suppression(a, this.silences.all(), this.firingSlas, this.clock.now());
  }

  private slotOf(a: Alert): Slot {
    let s = this.slots.get(a.id);
    if (!s) this.slots.set(a.id, (s = { id: a.id, alarm: Infinity, heapIndex: -1 }));
    return s;
  }

  private unschedule(a: Alert): void {
    const s = this.slots.get(a.id);
    if (s) this.deadlines.delete(s);
    this.slots.delete(a.id);
    this.unhold(a.id);
  }

  /** schedule arms an alert's next step (or its ack timeout). */
  private schedule(a: Alert): void {
    if (!this.started || this.stopped || a.state === 'resolved') return;
    const e = this.escalationOf(a);
    let at = Infinity;
    if (e && !a.quiet) {
      if (a.state === 'firing' && !this.held.has(a.id)) at = nextStep(a, e)?.at ?? Infinity;
      else if (a.state === 'acknowledged' && e.ackTimeoutMs !== undefined) at = a.ackedAt! + e.ackTimeoutMs;
    }
    this.deadlines.set(this.slotOf(a), at);
  }

  /** fire: an alert's step or ack timeout is due. */
  private fire(slot: Slot, now: number): void {
    const a = this.book.alerts.get(slot.id);
    if (!a || a.state === 'resolved') return;
    try {
      const e = this.escalationOf(a);
      if (!e) return;
      if (a.state === 'acknowledged' && e.ackTimeoutMs !== undefined && now >= a.ackedAt! + e.ackTimeoutMs) {
        this.write({ k: 'state', id: a.id, st: 'firing', t: now, why: `no resolution ${Math.round(e.ackTimeoutMs / 60_000)}m after the ack` });
      }
      for (let step = nextStep(a, e); a.state === 'firing' && step && step.at <= now; step = nextStep(a, e)) {
        const why = this.suppressedWhy(a);
        if (why) {
          this.hold(a, why, now);
          break;
        }
        this.dispatch(a, step, now);
      }
    } catch (err) {
      this.log.error({ alert: a.id, err: errorMessage(err) }, 'escalation step failed; retrying in 10s');
      this.deadlines.set(slot, now + 10_000);
      return;
    }
    this.schedule(a);
  }

  private hold(a: Alert, why: string, now: number): void {
    if (!this.held.has(a.id)) this.write({ k: 'note', id: a.id, t: now, what: 'held', m: `not told: ${why}` });
    a.held = why;
    this.held.add(a.id, a.dependsOn);
  }

  private unhold(id: string): void {
    this.held.delete(id, this.book.alerts.get(id)?.dependsOn ?? []);
  }

  /**
   * releaseHeld starts escalation over for held alerts nothing suppresses any more: all of
   * them when a silence starts or ends, those that depend on an SLA that stopped firing.
   */
  private releaseHeld(ids: Iterable<string> = this.held.all()): void {
    for (const id of [...ids]) {
      const a = this.book.alerts.get(id);
      if (!a || a.state !== 'firing') {
        this.unhold(id);
        continue;
      }
      if (this.suppressedWhy(a)) continue;
      this.unhold(id);
      this.write({ k: 'run', id, t: this.clock.now() });
      this.schedule(a);
    }
  }

  /** dispatch resolves a level's targets (schedules to who is on call now), records the step, and sends it. */
  private dispatch(a: Alert, step: PlannedStep, now: number): void {
    const { to, nobody } = stepContacts(step.targets, this.config.schedules, now);
    for (const name of nobody) this.write({ k: 'note', id: a.id, t: now, what: 'nobody', m: `schedule ${name} has nobody on call` });
    const s: Step = { key: step.key, kind: 'firing', level: step.level, to, at: now };
    this.write({ k: 'step', id: a.id, s });
    this.enqueue(a, s);
  }

  /**
   * heardOf tells whether a firing notification of the alert may have reached a contact:
   * one was sent or attempted, or is going out. One still waiting in its group is not
   * sent once the alert is acknowledged or resolved, so that contact heard nothing.
   */
  private heardOf(a: Alert, contact: string): boolean {
    for (const s of a.steps) {
      if (s.kind !== 'firing' || !s.to.includes(contact)) continue;
      for (const channel of this.channelsOfContact(contact)) {
        const key = `${s.key}|${contact}|${channel}`;
        const outcome = a.sent.get(key);
        if (outcome === 'sent' || outcome === 'failed' || (outcome === undefined && !this.dispatcher.grouped(key))) return true;
      }
    }
    return false;
  }

  /** notice tells those who heard of the firing that the alert was acknowledged or resolved. */
  private notice(a: Alert, kind: Exclude<NoticeKind, 'firing'>): void {
    const e = this.escalationOf(a);
    if (!e?.sendResolved || a.told.size === 0) return;
    const to = [...a.told].filter((c) => this.heardOf(a, c));
    if (to.length === 0) return;
    const s: Step = { key: `${a.id}:${kind === 'resolved' ? 'resolved' : `ack${a.acks}`}`, kind, level: 0, to, at: this.clock.now() };
    this.write({ k: 'step', id: a.id, s });
    this.enqueue(a, s);
  }

  /** enqueue hands a step's deliveries not sent yet to the dispatcher. */
  private enqueue(a: Alert, s: Step): void {
    const e = this.escalationOf(a);
    for (const name of s.to) {
      const contact = this.config.contacts[name];
      if (!contact) continue;
      for (const channel of channelsOf(contact)) {
        const key = `${s.key}|${name}|${channel}`;
        if (a.sent.has(key)) continue;
        const d: Delivery = { key, alertId: a.id, contact: name, channel, kind: s.kind, level: s.level, group: `${e?.name ?? ''}|${name}|${channel}` };
        this.dispatcher.enqueue(d, e?.groupWaitMs ?? 0);
      }
    }
  }

  /** baseUrl is where people reach the node (notify.url, or node.listen). */
  baseUrl(): string {
    return nodeBaseUrl(this.config);
  }

  /** payload is what a delivery says of its alert, with a fresh ack link while it fires. */
  private payload(d: Delivery): AlertPayload | undefined {
    const a = this.book.alerts.get(d.alertId);
    if (!a) return undefined;
    const now = this.clock.now();
    const links = this.links;
    const ackUrl = d.kind === 'firing' && a.state === 'firing' && links
      ? `${this.baseUrl()}/ack/${links.sign(a.id, now + this.config.notify.ackLinkTtlMs)}`
      : undefined;
    return alertPayload(a, d, this.config.node.name, now, ackUrl);
  }

  /** ack acknowledges an alert (API, CLI, RPC); REMON_ERR_ALERT_UNKNOWN or _STATE when it cannot. */
  ack(id: string, by: string, comment?: string, nonce?: string): Alert {
    const a = this.alert(id);
    if (a.state === 'resolved') throw createError('REMON_ERR_ALERT_STATE', `alert ${id} is resolved (${new Date(a.resolvedAt!).toISOString()}); there is nothing to acknowledge`);
    if (a.state === 'acknowledged') throw createError('REMON_ERR_ALERT_STATE', `alert ${id} is acknowledged already, by ${a.ackedBy ?? 'someone'} at ${new Date(a.ackedAt!).toISOString()}`);
    this.write({ k: 'state', id, st: 'acknowledged', t: this.clock.now(), by, ...(comment && { c: comment }), ...(nonce && { nonce }) });
    this.unhold(id);
    this.notice(a, 'acknowledged');
    this.schedule(a);
    return a;
  }

  /**
   * checkLink tells whether a signed link would acknowledge its alert now (signed by this
   * node, not expired, not used, the alert not resolved) and gives the alert;
   * REMON_ERR_ALERT_LINK says why not.
   */
  checkLink(token: string): { alert: Alert; nonce: string } {
    if (!this.links) throw createError('REMON_ERR_UNAVAILABLE', 'alerts are not started');
    const claim = this.links.verify(token, this.clock.now());
    return { alert: linkedAlert(claim, this.book.alerts), nonce: claim.nonce };
  }

  /** ackByLink acknowledges through a signed link; each link works once, before it expires. */
  ackByLink(token: string): Alert {
    const { alert, nonce } = this.checkLink(token);
    return this.ack(alert.id, 'ack link', undefined, nonce);
  }

  /** alert is one alert by id; REMON_ERR_ALERT_UNKNOWN when this node has none such. */
  alert(id: string): Alert {
    if (!this.started) throw createError('REMON_ERR_UNAVAILABLE', 'alerts are not started yet');
    const a = this.book.alerts.get(id);
    if (!a) throw createError('REMON_ERR_ALERT_UNKNOWN', `no alert has id "${String(id).slice(0, 50)}"`);
    return a;
  }

  /** all lists the alerts kept, newest first. */
  all(): Alert[] {
    if (!this.started) throw createError('REMON_ERR_UNAVAILABLE', 'alerts are not started yet');
    return [...this.book.alerts.values()].reverse();
  }

  /** channelsOfContact lists a contact's channels (for the views). */
  channelsOfContact(name: string): ChannelName[] {
    const c = this.config.contacts[name];
    return c ? channelsOf(c) : [];
  }

  /** now is the node's clock's time. */
  now(): number {
    return this.clock.now();
  }

  /** currentConfig is the config in force. */
  get currentConfig(): Config {
    return this.config;
  }

  receivers() {
    return [...this.dispatcher.receivers.values()];
  }

  stats() {
    const states = { pending: 0, firing: 0, acknowledged: 0, resolved: 0 };
    for (const a of this.book.alerts.values()) states[a.state]++;
    return { states, held: this.held.size, waiting: this.dispatcher.waiting, deliveries: { ...this.dispatcher.counts }, ...this.counts, log: this.book.stats };
  }

  /** idle resolves when no send and no action is in flight (tests on the fake clock settle with it). */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.dispatcher.idle();
      await Promise.allSettled([...this.inFlight]);
      await new Promise((r) => setImmediate(r));
    }
  }
}
