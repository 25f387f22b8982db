import type { EmitOutput } from '../engine/block';
import { formatDuration } from '../util/duration';
import { HeartbeatDef } from './options';
import { BeatState, EventKind, HbEvent, HbRecord, HistoryEntry, SignalKind } from './types';

/** How many signals and events a heartbeat keeps for the UI, and bodies among them. */
export const SIGNAL_HISTORY = 50;
export const EVENT_HISTORY = 50;
const BODIES_KEPT = 10;
/** Runs in flight kept per heartbeat; a start beyond this forgets the oldest run. */
export const MAX_RUNS = 100;
/** A miss after a long outage counts at most this many cron deadlines one by one. */
const MAX_COUNTED_MISSES = 1000;

/** Effect is what applying a record does outside the heartbeat: an event and a Result. */
export interface Effect {
  event?: HbEvent;
  result?: EmitOutput;
}

/** Ring keeps the newest `size` items. */
export class Ring<T> {
  private items: T[] = [];
  private start = 0;
  constructor(private readonly size: number) {}
  push(x: T): void {
    if (this.items.length < this.size) this.items.push(x);
    else {
      this.items[this.start] = x;
      this.start = (this.start + 1) % this.size;
    }
  }
  /** newest returns the item `back` places before the newest (0: the newest). */
  newest(back = 0): T | undefined {
    const n = this.items.length;
    if (back >= n) return undefined;
    return this.items[(this.start + n - 1 - back) % n];
  }
  /** toArray lists the items oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
  reset(items: T[]): void {
    this.items = items.slice(-this.size);
    this.start = 0;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
const secs = (ms: number): number => Math.round(ms) / 1000;
/** roughly renders a span for a message, to the second. */
const roughly = (ms: number): string => formatDuration(Math.max(0, Math.round(ms / 1000) * 1000));
function firstLine(body: string | undefined): string {
  const line = (body ?? '').trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** BeatSnapshot is a heartbeat's state as the journal's snapshot keeps it. */
export interface BeatSnapshot {
  state: BeatState;
  createdAt: number;
  base: number;
  lateFor: number;
  downSince: number;
  overdueFrom?: number;
  lastSuccess: number;
  lastSignal: number;
  lastSignalKind?: SignalKind;
  lastRuntimeMs?: number;
  errorCount: number;
  runs: Array<[string, number]>;
  signals: HistoryEntry[];
  events: HbEvent[];
}

/**
 * Beat is one heartbeat's state machine. It has no timers and does no I/O: `apply` turns a
 * journal record into the new state (and an event and a Result to emit), `alarmAt` says
 * when it next needs looking at, and `decide` says what the timer found then (a record to
 * journal). Deadlines count from `base`: creation, the last success or failure, or the
 * last deadline found missed.
 */
export class Beat {
  state: BeatState = 'new';
  createdAt = 0;
  base = 0;
  /** The deadline whose late event was recorded (so it is not recorded twice). */
  lateFor = 0;
  downSince = 0;
  /** The first deadline of the current streak of misses (0: none); late_s counts from it. */
  overdueFrom = 0;
  lastSuccess = 0;
  lastSignal = 0;
  lastSignalKind?: SignalKind;
  lastRuntimeMs?: number;
  errorCount = 0;
  /** Runs started and not finished: run id ('' without one) → start time. */
  readonly runs = new Map<string, number>();
  readonly signals = new Ring<HistoryEntry>(SIGNAL_HISTORY);
  readonly events = new Ring<HbEvent>(EVENT_HISTORY);
  /** The next deadline: schedule.next(base). */
  due = Infinity;
  /** Set while a record the timer proposed is being journaled. */
  pending = false;
  /** Signals remembered since the last one with a body (0: that one had a body). */
  private sinceBody = 0;
  /** Position in the deadline heap (-1: not in it). */
  heapIndex = -1;
  alarm = Infinity;

  constructor(readonly name: string, public def: HeartbeatDef) {
    if (def.paused) this.state = 'paused';
  }

  private reschedule(): void {
    this.due = this.createdAt === 0 ? Infinity : this.def.schedule.next(this.base);
  }

  /** setDef changes the definition at time `at`; pausing and resuming are state changes. */
  setDef(def: HeartbeatDef, at: number): HbEvent | undefined {
    const was = this.state === 'paused';
    this.def = def;
    if (!was && def.paused) {
      this.state = 'paused';
      this.lateFor = 0;
      this.reschedule();
      return this.event('paused', at, 'paused: no deadlines until resumed');
    }
    if (was && !def.paused) {
      // A resumed heartbeat starts afresh: its next deadline counts from now.
      this.state = this.lastSuccess ? 'up' : 'new';
      this.base = Math.max(this.base, at);
      this.lateFor = 0;
      this.errorCount = 0;
      this.downSince = 0;
      this.overdueFrom = 0;
      this.reschedule();
      return this.event('resumed', at, `resumed; next deadline ${iso(this.due)}`);
    }
    this.reschedule();
    return undefined;
  }

  /** alarmAt is when the timer should next call decide (Infinity: never). */
  alarmAt(): number {
    if (this.createdAt === 0 || this.state === 'paused') return Infinity;
    if (this.runs.size > 0) return this.oldestRun()[1] + this.def.maxRuntimeMs;
    const d = this.due;
    if (this.state === 'down' || this.lateFor === d || this.def.graceMs === 0) return d + this.def.graceMs;
    return d;
  }

  private oldestRun(): [string, number] {
    let oldest: [string, number] = ['', Infinity];
    for (const [r, s] of this.runs) if (s < oldest[1]) oldest = [r, s];
    return oldest;
  }

  /** decide: what the timer finds at `now`, as a record to journal, if anything. */
  decide(now: number): HbRecord | undefined {
    if (this.createdAt === 0 || this.state === 'paused') return undefined;
    const n = this.name;
    const { graceMs, maxRuntimeMs, periodMs, schedule } = this.def;
    if (this.runs.size > 0) {
      const [r, s] = this.oldestRun();
      return now >= s + maxRuntimeMs ? { k: 'overrun', n, t: now, r, s } : undefined;
    }
    const d = this.due;
    if (now >= d + graceMs) {
      // Every deadline that passed with its grace counts, once (after an outage, at once).
      let last = d;
      let c = 1;
      if (periodMs !== undefined) {
        const more = Math.floor((now - graceMs - d) / periodMs);
        c += more;
        last += more * periodMs;
      } else {
        for (let next = schedule.next(last); next + graceMs <= now; next = schedule.next(last)) {
          last = next;
          if (++c >= MAX_COUNTED_MISSES) {
            last = Math.max(last, schedule.last(now - graceMs) ?? last);
            break;
          }
        }
      }
      return { k: 'miss', n, t: now, d: last, c, s: d + graceMs };
    }
    if (now >= d && this.state !== 'down' && this.lateFor !== d) return { k: 'late', n, t: now, d };
    return undefined;
  }

  /** apply: the state after a committed record, and what it means outside. */
  apply(rec: HbRecord): Effect {
    switch (rec.k) {
      case 'seen':
        if (this.createdAt === 0) {
          this.createdAt = rec.t;
          this.base = Math.max(this.base, rec.t);
          this.reschedule();
        }
        return {};
      case 'def':
        return {};
      case 'start': {
        this.remember(rec.t, 'start', rec.r, undefined, rec.b);
        const key = rec.r ?? '';
        this.runs.delete(key);
        if (this.runs.size >= MAX_RUNS) this.runs.delete(this.oldestRun()[0]);
        if (this.state !== 'paused') this.runs.set(key, rec.t);
        return {};
      }
      case 'ok':
        return this.success(rec.t, rec.r, rec.x, rec.b);
      case 'fail':
        return this.failure(rec.t, rec.r, rec.x, rec.b);
      // A finding is stale when a signal applied before it moved the deadline.
      case 'late': {
        if (this.state === 'down' || this.state === 'paused' || this.runs.size > 0 || this.due !== rec.d) return {};
        this.state = 'late';
        this.lateFor = rec.d;
        return {
          event: this.event('late', rec.t, `late: expected by ${iso(rec.d)}; down at ${iso(rec.d + this.def.graceMs)}`),
          result: { ok: true, at: rec.t, fields: { late_s: secs(rec.t - rec.d), error_count: this.errorCount } },
        };
      }
      case 'miss': {
        if (this.state === 'paused' || this.runs.size > 0 || this.due + this.def.graceMs > rec.t) return {};
        const firstDeadline = rec.s - this.def.graceMs;
        const wasDown = this.state === 'down';
        this.base = rec.d;
        this.errorCount += rec.c;
        this.lateFor = 0;
        this.state = 'down';
        this.reschedule();
        if (!this.overdueFrom) this.overdueFrom = firstDeadline;
        const fields = { late_s: secs(rec.t - this.overdueFrom), error_count: this.errorCount };
        if (wasDown) {
          const message = `still down: ${rec.c === 1 ? 'another deadline' : `${rec.c} more deadlines`} missed, ${this.errorCount} in a row`;
          return { event: this.event('missed', rec.t, message), result: { ok: false, at: rec.t, message, fields } };
        }
        this.downSince = rec.s;
        const since = this.lastSuccess ? `no success since ${iso(this.lastSuccess)}` : 'never reported';
        const many = rec.c > 1 ? ` (${rec.c} deadlines missed)` : '';
        const message = `down: ${since}; expected by ${iso(firstDeadline)}, grace ${formatDuration(this.def.graceMs)}${many}`;
        return { event: this.event('down', rec.t, message), result: { ok: false, at: rec.t, message, fields } };
      }
      case 'overrun': {
        if (this.runs.get(rec.r) !== rec.s) return {};
        this.runs.delete(rec.r);
        if (this.state === 'paused') return {};
        const run = rec.r ? `run ${rec.r}` : 'the run';
        return this.toDown(rec.t, `${run} started at ${iso(rec.s)} did not finish within max_runtime ${formatDuration(this.def.maxRuntimeMs)}`, {});
      }
    }
  }

  private success(t: number, rid: string | undefined, exitCode: number | undefined, body: string | undefined): Effect {
    const runtimeMs = this.finishRun(rid, t);
    this.remember(t, exitCode === undefined ? 'success' : 'exit', rid, exitCode, body, runtimeMs);
    this.lastSuccess = t;
    if (this.state === 'paused') return {};
    const lateMs = this.overdueFrom ? t - this.overdueFrom : this.createdAt && t > this.due ? t - this.due : 0;
    this.overdueFrom = 0;
    const prev = this.state;
    this.state = 'up';
    this.errorCount = 0;
    this.base = Math.max(this.base, t);
    this.lateFor = 0;
    this.reschedule();
    let event: HbEvent | undefined;
    if (prev === 'down') event = this.event('recovered', t, `recovered after being down for ${roughly(t - this.downSince)}`);
    else if (prev === 'new') event = this.event('up', t, 'up: first success');
    else if (prev === 'late') event = this.event('up', t, `up: success ${roughly(lateMs)} late, within grace`);
    this.downSince = 0;
    const fields: Record<string, number> = { late_s: secs(lateMs), error_count: 0 };
    if (runtimeMs !== undefined) fields.runtime_s = secs(runtimeMs);
    return { event, result: { ok: true, at: t, fields, output: body } };
  }

  private failure(t: number, rid: string | undefined, exitCode: number | undefined, body: string | undefined): Effect {
    const runtimeMs = this.finishRun(rid, t);
    this.remember(t, exitCode === undefined ? 'fail' : 'exit', rid, exitCode, body, runtimeMs);
    if (this.state === 'paused') return {};
    const why = firstLine(body);
    const message = `failed${exitCode === undefined ? '' : ` with exit code ${exitCode}`}${why ? `: ${why}` : ''}`;
    const fields: Record<string, number> = {};
    if (runtimeMs !== undefined) fields.runtime_s = secs(runtimeMs);
    if (exitCode !== undefined) fields.exit_code = exitCode;
    return this.toDown(t, message, fields, body);
  }

  /** toDown: a failure or an overrun; deadlines count from t again. */
  private toDown(t: number, message: string, fields: Record<string, number>, output?: string): Effect {
    const wasDown = this.state === 'down';
    this.errorCount++;
    this.base = Math.max(this.base, t);
    this.lateFor = 0;
    this.state = 'down';
    this.reschedule();
    if (!wasDown) this.downSince = t;
    const event = wasDown ? undefined : this.event('down', t, `down: ${message}`);
    return { event, result: { ok: false, at: t, message, fields: { ...fields, error_count: this.errorCount }, output } };
  }

  /** finishRun ends the run a success or failure belongs to (same run id), giving its run time. */
  private finishRun(rid: string | undefined, t: number): number | undefined {
    if (this.runs.size === 0) return undefined;
    const key = rid ?? '';
    const started = this.runs.get(key);
    if (started === undefined) return undefined;
    this.runs.delete(key);
    return Math.max(0, t - started);
  }

  private remember(at: number, kind: SignalKind, rid?: string, exitCode?: number, body?: string, runtimeMs?: number): void {
    this.lastSignal = at;
    this.lastSignalKind = kind;
    if (runtimeMs !== undefined) this.lastRuntimeMs = runtimeMs;
    const entry: HistoryEntry = { at, kind };
    if (exitCode !== undefined) entry.exitCode = exitCode;
    if (rid !== undefined) entry.rid = rid;
    if (runtimeMs !== undefined) entry.runtimeS = secs(runtimeMs);
    if (body) entry.body = body;
    this.signals.push(entry);
    // Bodies are kept for the newest signals only, so memory and snapshots stay small. The
    // signal that falls out of them can have one only if a body came within as many signals.
    this.sinceBody = body ? 0 : this.sinceBody + 1;
    if (this.sinceBody > BODIES_KEPT) return;
    const old = this.signals.newest(BODIES_KEPT);
    if (old?.body !== undefined) delete old.body;
  }

  private event(kind: EventKind, at: number, message: string): HbEvent {
    const e: HbEvent = { name: this.name, kind, at, message };
    this.events.push(e);
    return e;
  }

  /** note records an event that is not a state change (created, edited). */
  note(kind: EventKind, at: number, message: string): HbEvent {
    return this.event(kind, at, message);
  }

  /**
   * lastOutput is the state as a block result, for the block's status after a restart
   * (undefined while new or paused: nothing to show).
   */
  lastOutput(): EmitOutput | undefined {
    if (this.state === 'new' || this.state === 'paused') return undefined;
    const fields = { error_count: this.errorCount };
    if (this.state !== 'down') return { ok: true, at: this.lastSignal || this.lastSuccess || this.createdAt, fields };
    let message = 'down';
    for (let i = 0; ; i++) {
      const e = this.events.newest(i);
      if (!e) break;
      if (e.kind === 'down' || e.kind === 'missed') {
        message = e.message;
        break;
      }
    }
    return { ok: false, at: this.downSince || this.lastSignal, message, fields };
  }

  snapshot(): BeatSnapshot {
    return {
      state: this.state, createdAt: this.createdAt, base: this.base, lateFor: this.lateFor, downSince: this.downSince,
      overdueFrom: this.overdueFrom, lastSuccess: this.lastSuccess, lastSignal: this.lastSignal, lastSignalKind: this.lastSignalKind, lastRuntimeMs: this.lastRuntimeMs,
      errorCount: this.errorCount, runs: [...this.runs], signals: this.signals.toArray(), events: this.events.toArray(),
    };
  }

  restore(s: BeatSnapshot): void {
    Object.assign(this, {
      state: s.state, createdAt: s.createdAt, base: s.base, lateFor: s.lateFor, downSince: s.downSince, overdueFrom: s.overdueFrom ?? 0, lastSuccess: s.lastSuccess,
      lastSignal: s.lastSignal, lastSignalKind: s.lastSignalKind, lastRuntimeMs: s.lastRuntimeMs, errorCount: s.errorCount,
    });
    this.runs.clear();
    for (const [r, t] of s.runs) this.runs.set(r, t);
    this.signals.reset(s.signals);
    this.sinceBody = 0;
    this.events.reset(s.events);
    this.reschedule();
  }
}
