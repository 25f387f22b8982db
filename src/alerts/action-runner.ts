import { Clock, Deadlines, Timed } from '../clock';
import { errorMessage } from '../errors';
import { formatDuration } from '../util/duration';
import type { Logger } from '../log';
import type { AlertPayload } from '../notify/payload';
import type { Json, LockHandle, Shared } from '../shared/shared';
import type { Store } from '../store/store';
import { ActionConfig, actionGate, describeAction, runAction } from './actions';
import { applyStep, describeSource, guardRefusal, readGuard } from './guard';
import type { Alert, ActionRun, AlertRecord, GuardRecord } from './types';

/** ACTIONS_BUCKET: the shared state bucket of each action's runs (`<sla>#<index>`), seen by every node on the backend. */
export const ACTIONS_BUCKET = 'remon.actions';
/** ACTIONS_QUEUE: the shared queue every executed action is pushed to (newest ACTIONS_QUEUE_LENGTH kept). */
export const ACTIONS_QUEUE = 'remon.actions';
export const ACTIONS_QUEUE_LENGTH = 1000;
/** DECISION_LOCK_TTL_MS bounds how long one node's decision holds the action's lock (a stalled node loses it). */
const DECISION_LOCK_TTL_MS = 30_000;
/** DECISION_WAIT_MS: how long a node waits for another's decision on the same action before it says so and lets it be. */
const DECISION_WAIT_MS = 5_000;
const DAY_MS = 86_400_000;
/** INTERRUPTED is the detail of a run the node stopped during (kill -9): it counts for the cooldown; whether it worked is unknown. */
export const INTERRUPTED = 'outcome unknown: the node stopped while it ran';
const MAX_SHARED_TIMES = 1000;

/** SharedActionRecord is an action's runs as every node sees them. `firing`: ran for a firing not resolved since. */
interface SharedActionRecord {
  times: number[];
  node: string;
  firing: boolean;
}

/** SlaNow gives an SLA's current test value and message (GET /api/slas), or undefined where there is no such SLA. */
export type SlaNow = (sla: string) => Promise<{ value: Alert['value']; message: string } | undefined>;

/** ActionRunnerDeps: what the runner reads and writes; Alerting gives them. */
export interface ActionRunnerDeps {
  clock: Clock;
  log: Logger;
  node: () => string;
  actions: (sla: string) => readonly ActionConfig[];
  /** alert is the alert by id (it may be resolved or forgotten meanwhile). */
  alert: (id: string) => Alert | undefined;
  /** times are this node's recorded run times of `<sla>#<i>` (the alert log). */
  times: (key: string) => readonly number[];
  write: (r: AlertRecord) => void;
  suppressedWhy: (a: Alert) => string | undefined;
  payload: (a: Alert, i: number) => AlertPayload;
  track: (p: Promise<unknown>) => void;
  counts: { actions: number; actionFailures: number };
  shared?: Shared;
  store?: Store;
  slaNow?: SlaNow;
}

/** Repeat is a firing alert's next decision on one repeating action. */
interface Repeat extends Timed {
  id: string;
  i: number;
}

const isFiring = (a: Alert | undefined): a is Alert => a !== undefined && (a.state === 'firing' || a.state === 'acknowledged');

/**
 * ActionRunner decides and runs SLA actions (monscale's bounded actions). Each decision
 * happens under the action's shared lock: it reads the action's runs on the shared backend
 * (so every node of a cluster sees the others' runs) and this node's alert log (so a restart
 * keeps the cooldown even on the memory backend), then the gates (suppressed, another node
 * ran it for this firing, cooldown, max_per_day) and the guard's value read now. A run adds
 * its step to the guard's shared value, is written to the alert log and the shared record
 * before the command starts, and is pushed to the shared queue `remon.actions`. Each
 * decision, run or declined, is recorded on the alert with the values that justified it
 * and logged. A `repeat` action decides again each cooldown while the alert fires.
 */
export class ActionRunner {
  private readonly repeats: Deadlines<Repeat>;
  private readonly slots = new Map<string, Repeat>();
  private readonly deciding = new Set<string>();
  private stopped = false;

  constructor(private readonly d: ActionRunnerDeps) {
    this.repeats = new Deadlines<Repeat>(d.clock, (r) => this.repeat(r));
  }

  /** fired: the alert began firing; each of its SLA's actions is decided now. */
  fired(a: Alert): void {
    if (a.source !== 'sla' || a.quiet) return;
    this.d.actions(a.sla).forEach((action, i) => this.decide(a, i, action, false));
  }

  /**
   * resumed: after a restart, a run the node did not see end is recorded as such (its
   * outcome is unknown), and a firing alert's repeating actions are due a cooldown after
   * their last run.
   */
  resumed(a: Alert): void {
    for (const x of a.actions.filter((r) => r.status === 'running')) {
      this.d.write({ k: 'act', id: a.id, sla: a.sla, i: -1, t: this.d.clock.now(), run: { ...x, status: 'failed', detail: INTERRUPTED } });
    }
    if (a.source !== 'sla' || a.quiet || !isFiring(a)) return;
    const now = this.d.clock.now();
    this.d.actions(a.sla).forEach((action, i) => {
      if (!action.repeat) return;
      const times = this.d.times(`${a.sla}#${i}`);
      const last = times.length ? times[times.length - 1] : a.firedAt ?? now;
      this.arm(a.id, i, Math.max(now, last + action.cooldownMs));
    });
  }

  /** resolved: the alert's repeats stop, and its actions' shared records say the firing is over. */
  resolved(a: Alert): void {
    for (const [k, r] of this.slots) {
      if (r.id !== a.id) continue;
      this.repeats.delete(r);
      this.slots.delete(k);
    }
    const shared = this.d.shared;
    if (a.source !== 'sla' || !shared || this.stopped) return;
    const n = this.d.actions(a.sla).length;
    for (let i = 0; i < n; i++) this.d.track(this.endFiring(shared, `${a.sla}#${i}`));
  }

  stop(): void {
    this.stopped = true;
    this.repeats.stop();
  }

  private arm(id: string, i: number, at: number): void {
    const k = `${id}#${i}`;
    let r = this.slots.get(k);
    if (!r) this.slots.set(k, (r = { id, i, alarm: Infinity, heapIndex: -1 }));
    this.repeats.set(r, at);
  }

  private repeat(r: Repeat): void {
    const a = this.d.alert(r.id);
    const action = a ? this.d.actions(a.sla)[r.i] : undefined;
    if (!isFiring(a) || !action?.repeat) {
      this.slots.delete(`${r.id}#${r.i}`);
      return;
    }
    this.decide(a, r.i, action, true);
  }

  /** decide runs one decision (never two at once for one alert's action); it never throws. */
  private decide(a: Alert, i: number, action: ActionConfig, repeat: boolean): void {
    const k = `${a.id}#${i}`;
    if (this.deciding.has(k) || this.stopped) return;
    this.deciding.add(k);
    const p = this.decision(a, i, action, repeat)
      .then((next) => {
        if (action.repeat && next !== undefined && !this.stopped && isFiring(this.d.alert(a.id))) this.arm(a.id, i, next);
      })
      .catch((err) => this.d.log.error({ alert: a.id, sla: a.sla, err: errorMessage(err) }, 'SLA action decision failed'))
      .finally(() => this.deciding.delete(k));
    this.d.track(p);
  }

  /** decision decides, records and starts the action; it resolves to when to decide again (a repeat). */
  private async decision(a: Alert, i: number, action: ActionConfig, repeat: boolean): Promise<number | undefined> {
    const key = `${a.sla}#${i}`;
    const me = this.d.node();
    const shared = this.d.shared;
    const sla = repeat ? await this.d.slaNow?.(a.sla).catch(() => undefined) : undefined;
    let base: ActionRun = {
      at: this.d.clock.now(), action: describeAction(action), value: sla?.value ?? a.value, message: sla?.message ?? a.message, status: 'running', node: me,
      ...(repeat && { repeat: true }),
    };
    const decline = (status: ActionRun['status'], detail: string, guard?: GuardRecord, next = base.at + action.cooldownMs): number => {
      this.record(a, i, { ...base, status, detail, ...(guard && { guard }) });
      this.d.log.info({ alert: a.id, sla: a.sla, action: base.action, status, detail }, 'SLA action declined');
      return next;
    };
    const why = this.d.suppressedWhy(a);
    if (why) return decline('suppressed', why);

    let lock: LockHandle | undefined;
    let sharedDown: string | undefined;
    if (shared) {
      try {
        lock = await shared.locks.acquire(`remon.action:${key}`, { ttlMs: DECISION_LOCK_TTL_MS, waitMs: DECISION_WAIT_MS });
      } catch (err) {
        if ((err as { code?: string }).code === 'REMON_ERR_SHARED_LOCK_TIMEOUT') {
          base = { ...base, at: this.d.clock.now() };
          return decline('elsewhere', `another node holds the decision (${errorMessage(err)})`);
        }
        sharedDown = errorMessage(err);
      }
    }
    try {
      let rec: SharedActionRecord | undefined;
      if (shared && !sharedDown) {
        try {
          rec = asRecord(await shared.state.get(ACTIONS_BUCKET, key));
        } catch (err) {
          sharedDown = errorMessage(err);
        }
      }
      if (sharedDown) this.d.log.warn({ sla: a.sla, action: base.action, err: sharedDown }, 'SLA action: shared backend unreachable; deciding on this node\'s record');
      const now = this.d.clock.now();
      base = { ...base, at: now };
      const times = merge(this.d.times(key), rec?.times ?? [], now);
      const last = times.length ? times[times.length - 1] : undefined;
      const lastBy = rec && rec.node !== me && rec.times.includes(last!) ? rec.node : undefined;
      if (!repeat && rec?.firing && rec.node !== me && last !== undefined && now - last < DAY_MS) {
        return decline('elsewhere', `${rec.node} ran it for this firing ${formatDuration(Math.max(0, now - last))} ago`);
      }
      const gate = actionGate(action, times, now, lastBy);
      if (gate) return decline(gate.status, gate.detail, undefined, gate.status === 'cooldown' ? last! + action.cooldownMs : now + action.cooldownMs);

      let guard: GuardRecord | undefined;
      const g = action.guard;
      if (g) {
        const reading = await readGuard(g, { shared: sharedDown ? undefined : shared, store: this.d.store }, now);
        guard = { source: describeSource(g), value: 'value' in reading ? reading.value : null, ...bounds(g) };
        if ('error' in reading) return decline('guard', `guard not read, so not run: ${reading.error}`, guard);
        const refused = guardRefusal(g, reading.value);
        if (refused) return decline('guard', refused, guard);
        if (g.step !== undefined && g.source !== 'series') {
          try {
            guard.after = await applyStep(g, shared!, reading.value);
          } catch (err) {
            return decline('guard', `step ${g.step} not applied to ${guard.source}, so not run: ${errorMessage(err)}`, guard);
          }
        }
      }
      const run: ActionRun = { ...base, ...(guard && { guard }) };
      // The alert log first: a kill -9 from here on still counts this run for the cooldown.
      this.record(a, i, run);
      this.d.counts.actions++;
      if (shared && !sharedDown) await this.share(shared, key, a, run, times);
      this.d.log.info({ alert: a.id, sla: a.sla, action: run.action, value: run.value, ...(guard && { guard: guard.source, read: guard.value, after: guard.after }) }, 'SLA action runs');
      this.d.track(this.execute(a, i, action, run));
      return now + action.cooldownMs;
    } finally {
      if (lock) await shared!.locks.release(lock).catch(() => undefined);
    }
  }

  /** share writes the run to the action's shared record and pushes it to the shared queue; a failure is logged. */
  private async share(shared: Shared, key: string, a: Alert, run: ActionRun, times: number[]): Promise<void> {
    const rec: SharedActionRecord = { times: [...times, run.at].slice(-MAX_SHARED_TIMES), node: run.node!, firing: true };
    try {
      await shared.state.set(ACTIONS_BUCKET, key, rec as unknown as Json);
      await shared.queues.push(ACTIONS_QUEUE, {
        at: new Date(run.at).toISOString(), node: run.node!, sla: a.sla, action: run.action, value: run.value, message: run.message,
        ...(run.guard && { guard: { ...run.guard } }), ...(run.repeat && { repeat: true }),
      } as Json, { maxLength: ACTIONS_QUEUE_LENGTH });
    } catch (err) {
      this.d.log.warn({ sla: a.sla, action: run.action, err: errorMessage(err) }, 'SLA action: run not shared; other nodes may not see it');
    }
  }

  /** endFiring marks an action's shared record as not firing (its alert resolved). */
  private async endFiring(shared: Shared, key: string): Promise<void> {
    let lock: LockHandle | undefined;
    try {
      lock = await shared.locks.acquire(`remon.action:${key}`, { ttlMs: DECISION_LOCK_TTL_MS, waitMs: DECISION_WAIT_MS });
      const rec = asRecord(await shared.state.get(ACTIONS_BUCKET, key));
      if (rec?.firing) await shared.state.set(ACTIONS_BUCKET, key, { ...rec, firing: false } as unknown as Json);
    } catch (err) {
      this.d.log.warn({ action: key, err: errorMessage(err) }, 'SLA action: resolution not shared');
    } finally {
      if (lock) await shared.locks.release(lock).catch(() => undefined);
    }
  }

  /** execute runs the command or webhook and records how it ended. */
  private async execute(a: Alert, i: number, action: ActionConfig, run: ActionRun): Promise<void> {
    const r = await runAction(action, this.d.payload(a, i));
    if (r.error) {
      this.d.counts.actionFailures++;
      this.d.log.warn({ alert: a.id, sla: a.sla, action: run.action, err: r.error }, 'SLA action failed');
    }
    if (this.stopped) return;
    const detail = r.error ?? r.output;
    this.record(a, i, { ...run, status: r.error ? 'failed' : 'ok', ...(detail && { detail }) });
  }

  private record(a: Alert, i: number, run: ActionRun): void {
    if (this.stopped) return;
    this.d.write({ k: 'act', id: a.id, sla: a.sla, i, t: run.at, run });
  }
}

/** asRecord reads a shared record defensively (another version or a person may have written it). */
function asRecord(v: Json | undefined): SharedActionRecord | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const times = Array.isArray(v.times) ? v.times.filter((t): t is number => typeof t === 'number') : [];
  return { times, node: typeof v.node === 'string' ? v.node : '', firing: v.firing === true };
}

/** merge joins this node's and the shared run times of the last day, oldest first, without duplicates. */
function merge(local: readonly number[], shared: readonly number[], now: number): number[] {
  const all = new Set<number>();
  for (const t of local) if (t > now - DAY_MS) all.add(t);
  for (const t of shared) if (t > now - DAY_MS) all.add(t);
  return [...all].sort((x, y) => x - y);
}

function bounds(g: { min?: number; max?: number; step?: number }): Omit<GuardRecord, 'source' | 'value'> {
  return { ...(g.min !== undefined && { min: g.min }), ...(g.max !== undefined && { max: g.max }), ...(g.step !== undefined && { step: g.step }) };
}

