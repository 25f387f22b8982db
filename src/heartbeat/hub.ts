import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/types';
import type { BlockHub, EmitOutput, HubEnv } from '../engine/block';
import { createError, errorMessage } from '../errors';
import type { OpDone } from '../ops/operation';
import { formatDuration } from '../util/duration';
import { Beat, BeatSnapshot } from './beat';
import { heartbeatRoute } from './http';
import { Journal, JournalStats } from './journal';
import { heartbeatOps } from './ops';
import {
  applyOverride, AUTO_CREATE_OPTIONS, describeDef, differences, HeartbeatOptions, OPTION_KEYS, optionProblems, Override,
  patchOverride, pickOptions, reduceOverride, toDef,
} from './options';
import { signalRecord, signalText } from './record';
import { Clock, Deadlines, realClock } from '../clock';
import { HbEvent, HbRecord, HeartbeatDetail, HeartbeatView, NAME_PATTERN, RID_PATTERN, Signal } from './types';

/** MAX_RUNTIME_HEARTBEATS bounds the heartbeats created at run time (auto_create, remon config). */
export const MAX_RUNTIME_HEARTBEATS = 10_000;

/** HubOptions: test seams. */
export interface HubOptions {
  /** Journal segment size that starts a snapshot (default 64 MiB). */
  compactBytes?: number;
}

/** Slot is one heartbeat: its state machine, its definition's sources, and its block's emit. */
interface Slot {
  beat: Beat;
  /** Its keys in monitor.yaml (undefined when created at run time). */
  file?: HeartbeatOptions;
  /** Runtime edits over the file's keys (or, for runtime heartbeats, all of them). */
  override: Override;
  runtime: boolean;
  emit?: (out: EmitOutput) => void;
  /** Shows the state replayed from the journal on the block, without a result. */
  restore?: (out: EmitOutput) => void;
}

/** HubState is what a snapshot keeps. */
interface HubState {
  beats: Record<string, { runtime?: boolean; override?: Override; beat: BeatSnapshot }>;
}

/** SignalAnswer is what a signal's 200 says. */
export interface SignalAnswer {
  name: string;
  state: string;
}

/** disabledIn lists the heartbeats monitor.yaml has but disables (a signal to one is refused). */
function disabledIn(config: Config): Set<string> {
  return new Set(config.blocks.filter((b) => b.type === 'heartbeat' && b.disabled).map((b) => b.name));
}

const isTimerRecord = (r: HbRecord): boolean => r.k === 'late' || r.k === 'miss' || r.k === 'overrun';

/**
 * HeartbeatHub is the heartbeat type's node-wide part: every heartbeat's state machine
 * (Beat), one timer over all their deadlines (Deadlines), and the journal that makes
 * each signal, edit and finding durable before it takes effect. Signals arrive over HTTP
 * (`signal`), edits from `remon config` (`configure`); state changes are logged, emitted
 * as 'event', and reported to the engine as Results through each heartbeat block's emit.
 */
export class HeartbeatHub extends EventEmitter implements BlockHub {
  /** heartbeats.list/get/configure and heartbeat.send (src/heartbeat/ops.ts). */
  readonly ops = heartbeatOps;
  /** The /hb signal endpoints (src/heartbeat/http.ts). */
  readonly routes = [heartbeatRoute];
  private readonly slots = new Map<string, Slot>();
  private readonly clock: Clock;
  private readonly deadlines: Deadlines<Beat>;
  private disabled: Set<string>;
  private readonly dir: string;
  private journal?: Journal;
  private opening?: Promise<void>;
  private replaying = false;
  private stopped = false;
  private readonly creating = new Map<string, Promise<void>>();

  constructor(private readonly env: HubEnv, private readonly options: HubOptions = {}) {
    super();
    this.clock = env.clock ?? realClock;
    this.deadlines = new Deadlines<Beat>(this.clock, (beat, now) => this.fire(beat, now));
    this.disabled = disabledIn(env.config);
    this.dir = path.join(env.config.node.data, 'heartbeats');
  }

  /**
   * attach registers a heartbeat block (called by the block type's create; again for the
   * same name when a reload restarts the block: the heartbeat keeps its state, and reload
   * takes the new options).
   */
  attach(name: string, options: Readonly<Record<string, unknown>>, emit: (out: EmitOutput) => void, restore?: (out: EmitOutput) => void): void {
    const existing = this.slots.get(name);
    if (existing) {
      existing.emit = emit;
      existing.restore = restore;
      // A block made anew by a reload shows the state the heartbeat kept.
      const last = this.journal ? existing.beat.lastOutput() : undefined;
      if (last) restore?.(last);
      return;
    }
    const file = pickOptions(options);
    this.slots.set(name, { beat: new Beat(name, toDef(name, file)), file, override: {}, runtime: false, emit, restore });
  }

  /**
   * reload takes a new config (after the engine applied its blocks): heartbeats no longer
   * in monitor.yaml are dropped (runtime ones stay), the others take their new options; a
   * heartbeat keeps its state and history across the change, as across a restart.
   */
  reload(config: Config): void {
    this.disabled = disabledIn(config);
    const now = this.clock.now();
    const inFile = new Map(config.blocks.filter((b) => b.type === 'heartbeat' && !b.disabled).map((b) => [b.name, b]));
    for (const [name, slot] of this.slots) {
      const b = inFile.get(name);
      if (!b) {
        if (slot.runtime) continue;
        this.deadlines.delete(slot.beat);
        this.slots.delete(name);
        continue;
      }
      slot.file = pickOptions(b.options);
      slot.runtime = false;
      slot.override = reduceOverride(slot.file, slot.override);
      const def = this.defOf(name, slot);
      const event = def && slot.beat.setDef(def, now);
      if (event) this.publish(event);
      this.rearm(slot.beat);
    }
  }

  /**
   * start replays the journal (snapshot, then the records after it), records when new
   * heartbeats were first seen, and arms the timer: a deadline that passed while the node
   * was down is due at once, and fires once. A node without heartbeats opens no journal
   * until one is created.
   */
  async start(): Promise<void> {
    if (this.slots.size > 0 || this.env.config.node.autoCreate || fs.existsSync(this.dir)) await this.open();
  }

  private open(): Promise<void> {
    this.opening ??= this.doOpen();
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const journal = new Journal({
      dir: this.dir,
      apply: (rec) => this.apply(rec, true),
      state: () => this.state(),
      compactBytes: this.options.compactBytes,
      log: this.env.log,
    });
    const stored = await journal.open();
    this.journal = journal;
    this.replaying = true;
    try {
      if (stored.state) this.restore(stored.state as HubState);
      for (const rec of stored.records) this.apply(rec, false);
    } finally {
      this.replaying = false;
    }
    const now = this.clock.now();
    for (const [name, slot] of this.slots) {
      // An edit that monitor.yaml now says too (written back) no longer differs.
      if (!slot.runtime) slot.override = reduceOverride(slot.file, slot.override);
      const def = this.defOf(name, slot);
      if (def) slot.beat.setDef(def, now);
    }
    const seen = [...this.slots.values()].filter((s) => s.beat.createdAt === 0).map((s) => journal.append({ k: 'seen', n: s.beat.name, t: now }));
    if (stored.records.length > 0 || stored.skipped > 0) await journal.compact();
    await Promise.all(seen);
    for (const slot of this.slots.values()) {
      this.rearm(slot.beat);
      const last = slot.beat.lastOutput();
      if (last) slot.restore?.(last);
    }
    if (this.slots.size > 0) this.env.log.info({ heartbeats: this.slots.size, replayed: stored.records.length }, 'heartbeats loaded');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.deadlines.stop();
    if (this.opening) await this.opening.catch(() => undefined);
    await this.journal?.close();
  }

  /** signal records a job's report; it resolves once the signal is durable and applied. */
  signal(name: string, sig: Signal): Promise<SignalAnswer> {
    return new Promise((resolve, reject) => this.signalThen(name, sig, (err, answer) => (err ? reject(err) : resolve(answer!))));
  }

  /**
   * signalThen is signal with a callback, called once the signal is durable and applied, or
   * with why it was refused (possibly before signalThen returns). The /hb routes come this
   * way: no promise per signal.
   */
  signalThen(name: string, sig: Signal, done: OpDone<SignalAnswer>): void {
    try {
      if (!NAME_PATTERN.test(name)) throw createError('REMON_ERR_HEARTBEAT_INVALID', 'heartbeat names are 1-128 letters, digits, _ and -');
      if (sig.rid !== undefined && !RID_PATTERN.test(sig.rid)) {
        throw createError('REMON_ERR_HEARTBEAT_INVALID', 'rid must be 1-64 letters, digits and _ . : -');
      }
      if (sig.kind === 'exit' && !(Number.isInteger(sig.exitCode) && sig.exitCode! >= 0 && sig.exitCode! <= 255)) {
        throw createError('REMON_ERR_HEARTBEAT_INVALID', `exit codes are 0-255; got ${sig.exitCode}`);
      }
      const created = this.slots.has(name) ? undefined : this.creating.get(name) ?? this.autoCreate(name);
      const rec = signalRecord(name, this.clock.now(), sig);
      const journal = this.journalFor();
      // The hot path (a known heartbeat) waits for its own batch only.
      if (!created) return journal.appendThen(rec, signalText(rec), (err) => (err ? done(err) : done(undefined, this.answer(name))));
      Promise.all([created, journal.append(rec, signalText(rec))])
        .then(() => done(undefined, this.answer(name)), (err: unknown) => done(err));
    } catch (err) {
      done(err);
    }
  }

  /** answer is what a signal is answered with once it is applied: the heartbeat's state. */
  private answer(name: string): SignalAnswer {
    return { name, state: this.slots.get(name)?.beat.state ?? 'new' };
  }

  private autoCreate(name: string): Promise<void> {
    if (this.disabled.has(name)) throw createError('REMON_ERR_HEARTBEAT_UNKNOWN', `heartbeat "${name}" is disabled in monitor.yaml`);
    if (this.env.hasBlock(name)) throw createError('REMON_ERR_HEARTBEAT_UNKNOWN', `block "${name}" is not a heartbeat`);
    if (!this.env.config.node.autoCreate) {
      throw createError('REMON_ERR_HEARTBEAT_UNKNOWN',
        `no heartbeat is named "${name}"; add it to monitor.yaml, create it with \`remon config ${name} --period 1d\`, or set node.auto_create: true`);
    }
    this.checkRoom();
    const p = this.journalFor().append({ k: 'def', n: name, t: this.clock.now(), o: { ...AUTO_CREATE_OPTIONS }, c: 1 });
    this.creating.set(name, p);
    void p.finally(() => this.creating.delete(name)).catch(() => undefined);
    return p;
  }

  private checkRoom(): void {
    let n = this.creating.size;
    for (const s of this.slots.values()) if (s.runtime) n++;
    if (n >= MAX_RUNTIME_HEARTBEATS) {
      throw createError('REMON_ERR_HEARTBEAT_LIMIT', `this node keeps at most ${MAX_RUNTIME_HEARTBEATS} heartbeats created at run time; add them to monitor.yaml`);
    }
  }

  private journalFor(): Journal {
    if (!this.journal) throw createError('REMON_ERR_HEARTBEAT_JOURNAL', this.stopped ? 'the node is stopping' : 'heartbeats are not started');
    return this.journal;
  }

  /**
   * configure creates or edits a heartbeat at run time (`remon config`). `patch` holds
   * option keys (null removes one); the edit is journaled and kept until monitor.yaml says
   * the same.
   */
  async configure(name: string, patch: Record<string, unknown>): Promise<HeartbeatView> {
    if (!NAME_PATTERN.test(name)) throw createError('REMON_ERR_HEARTBEAT_INVALID', 'heartbeat names are 1-128 letters, digits, _ and -');
    const unknown = Object.keys(patch).filter((k) => !(OPTION_KEYS as readonly string[]).includes(k));
    if (unknown.length) throw createError('REMON_ERR_HEARTBEAT_INVALID', `unknown key "${unknown[0]}"; expected one of: ${OPTION_KEYS.join(', ')}`);
    if (Object.keys(patch).length === 0) throw createError('REMON_ERR_HEARTBEAT_INVALID', `nothing to change; give one of: ${OPTION_KEYS.join(', ')}`);
    if (this.disabled.has(name)) throw createError('REMON_ERR_BLOCK_EXISTS', `heartbeat "${name}" is disabled in monitor.yaml; enable it there`);
    await this.open();
    if (this.creating.has(name)) await this.creating.get(name);
    const slot = this.slots.get(name);
    if (!slot && this.env.hasBlock(name)) throw createError('REMON_ERR_BLOCK_EXISTS', `block "${name}" is not a heartbeat`);
    if (!slot) this.checkRoom();
    let override = patchOverride(slot?.override ?? {}, patch as Override);
    const effective = applyOverride(slot?.file, override);
    const problems = optionProblems(effective as Record<string, unknown>);
    if (problems.length) {
      throw createError('REMON_ERR_HEARTBEAT_INVALID', problems.map(([k, m]) => (k ? `${k}: ${m}` : m)).join('; '));
    }
    if (slot && !slot.runtime) override = reduceOverride(slot.file, override);
    const rec: HbRecord = { k: 'def', n: name, t: this.clock.now(), o: override, ...(!slot && { c: 1 as const }) };
    await this.journalFor().append(rec);
    return this.view(this.slots.get(name)!);
  }

  list(): HeartbeatView[] {
    return [...this.slots.values()].map((s) => this.view(s)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** get is one heartbeat with its history, or undefined. */
  get(name: string): HeartbeatDetail | undefined {
    const slot = this.slots.get(name);
    if (!slot) return undefined;
    const iso = (ms: number): string => new Date(ms).toISOString();
    return {
      ...this.view(slot),
      signals: slot.beat.signals.toArray().reverse().map((s) => ({ ...s, at: iso(s.at) })),
      events: slot.beat.events.toArray().reverse().map(({ name: _n, ...e }) => ({ ...e, at: iso(e.at) })),
    };
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  stats(): { heartbeats: number; armed: number; journal?: JournalStats } {
    return { heartbeats: this.slots.size, armed: this.deadlines.size, journal: this.journal?.stats };
  }

  /** idle resolves when every journaled record has been applied (tests). */
  async idle(): Promise<void> {
    await this.opening;
    await this.journal?.idle();
  }

  private view(slot: Slot): HeartbeatView {
    const b = slot.beat;
    const d = b.def;
    const effective = applyOverride(slot.file, slot.override);
    const iso = (ms: number): string | null => (ms && Number.isFinite(ms) ? new Date(ms).toISOString() : null);
    const active = b.state !== 'paused' && b.createdAt !== 0;
    let downAt: number | null = null;
    if (active && b.runs.size > 0) downAt = Math.min(...b.runs.values()) + d.maxRuntimeMs;
    else if (active && b.state !== 'down') downAt = b.due + d.graceMs;
    return {
      name: b.name,
      state: b.state,
      description: d.description,
      schedule: d.schedule.describe(),
      period: effective.period ?? null,
      cron: d.cron ?? null,
      tz: d.tz ?? null,
      grace: formatDuration(d.graceMs),
      maxRuntime: formatDuration(d.maxRuntimeMs),
      source: slot.runtime ? 'runtime' : 'monitor.yaml',
      differs: differences(slot.file, effective),
      options: effective,
      createdAt: iso(b.createdAt),
      lastSuccess: iso(b.lastSuccess),
      lastSignal: iso(b.lastSignal),
      lastSignalKind: b.lastSignalKind ?? null,
      nextDeadline: active ? iso(b.due) : null,
      downAt: iso(downAt ?? 0),
      downSince: b.state === 'down' ? iso(b.downSince) : null,
      errorCount: b.errorCount,
      lastRuntimeS: b.lastRuntimeMs === undefined ? null : b.lastRuntimeMs / 1000,
      running: [...b.runs].map(([rid, since]) => ({ rid: rid || null, since: iso(since)! })),
    };
  }

  /** fire: the timer found a heartbeat due; what it finds is journaled before it counts. */
  private fire(beat: Beat, now: number): void {
    if (beat.pending || this.stopped) return;
    const rec = beat.decide(now);
    if (!rec) {
      const at = beat.alarmAt();
      this.deadlines.set(beat, at > now ? at : now + 1000);
      return;
    }
    beat.pending = true;
    this.journalFor().append(rec).catch((err) => {
      beat.pending = false;
      this.env.log.error({ heartbeat: beat.name, err: errorMessage(err) }, 'heartbeat finding not journaled; retrying in 1s');
      if (!this.stopped) this.deadlines.set(beat, this.clock.now() + 1000);
    });
  }

  /**
   * rearm puts a heartbeat's next alarm in the heap. An alarm that only moved later (every
   * success moves the deadline) stays where the heap has it: the timer then finds the
   * heartbeat early, decide() finds nothing due, and fire() arms it at its real time. So
   * a signal costs no sift through the heap, and no alarm is ever later than it should be.
   */
  private rearm(beat: Beat): void {
    if (beat.pending || this.replaying || this.stopped) return;
    const at = beat.alarmAt();
    if (beat.heapIndex >= 0 && at > beat.alarm && at !== Infinity) return;
    this.deadlines.set(beat, at);
  }

  /** apply: a committed (live) or replayed record takes effect. */
  private apply(rec: HbRecord, live: boolean): void {
    if (rec.k === 'def') return this.applyDef(rec, live);
    const slot = this.slots.get(rec.n);
    if (!slot) return; // a heartbeat no longer configured
    const beat = slot.beat;
    if (isTimerRecord(rec)) beat.pending = false;
    const effect = beat.apply(rec);
    if (live && effect.event) this.publish(effect.event);
    if (live && effect.result) slot.emit?.(effect.result);
    this.rearm(beat);
  }

  private applyDef(rec: Extract<HbRecord, { k: 'def' }>, live: boolean): void {
    let slot = this.slots.get(rec.n);
    if (!slot) {
      if (!rec.c) return;
      if (!this.addRuntime(rec.n, rec.o)) return;
      slot = this.slots.get(rec.n)!;
      slot.beat.apply({ k: 'seen', n: rec.n, t: rec.t });
      const event = slot.beat.note('created', rec.t, `created at run time: ${describeDef(slot.beat.def)}`);
      if (live) this.publish(event);
    } else {
      slot.override = rec.o;
      const changed = differences(slot.file, applyOverride(slot.file, rec.o)).map((d) => `${d.key} ${d.runtime ?? '(none)'}`);
      const event = slot.beat.note('edited', rec.t, `edited at run time${changed.length ? `: ${changed.join(', ')}` : '; same as monitor.yaml again'}`);
      if (live) this.publish(event);
    }
    const def = this.defOf(rec.n, slot);
    const event = def && slot.beat.setDef(def, rec.t);
    if (live && event) this.publish(event);
    this.rearm(slot.beat);
  }

  /** addRuntime makes a heartbeat created at run time a block of the node. */
  private addRuntime(name: string, override: Override): boolean {
    const options = applyOverride(undefined, override);
    const problems = optionProblems(options as Record<string, unknown>);
    if (problems.length) {
      this.env.log.warn({ heartbeat: name, problems: problems.map((p) => p.join(': ')) }, 'runtime heartbeat dropped: its definition is no longer valid');
      return false;
    }
    try {
      this.env.addBlock(name, options as Record<string, unknown>);
    } catch (err) {
      this.env.log.warn({ heartbeat: name, err: errorMessage(err) }, 'runtime heartbeat dropped');
      return false;
    }
    const slot = this.slots.get(name);
    if (!slot) return false;
    slot.file = undefined;
    slot.runtime = true;
    slot.override = override;
    return true;
  }

  private defOf(name: string, slot: Slot) {
    const effective = applyOverride(slot.file, slot.override);
    if (optionProblems(effective as Record<string, unknown>).length) return undefined;
    return toDef(name, effective);
  }

  private publish(e: HbEvent): void {
    const level = e.kind === 'down' ? 'warn' : 'info';
    this.env.log[level]({ heartbeat: e.name, event: e.kind, at: new Date(e.at).toISOString(), message: e.message }, `heartbeat ${e.kind}`);
    this.emit('event', e);
  }

  private state(): HubState {
    const beats: HubState['beats'] = {};
    for (const [name, s] of this.slots) {
      beats[name] = { beat: s.beat.snapshot() };
      if (s.runtime) beats[name].runtime = true;
      if (Object.keys(s.override).length) beats[name].override = s.override;
    }
    return { beats };
  }

  private restore(state: HubState): void {
    for (const [name, saved] of Object.entries(state.beats ?? {})) {
      if (!this.slots.has(name)) {
        if (!saved.runtime || !this.addRuntime(name, saved.override ?? {})) {
          this.env.log.info({ heartbeat: name }, 'heartbeat no longer configured; its saved state is dropped');
          continue;
        }
      }
      const slot = this.slots.get(name)!;
      if (saved.override) slot.override = saved.override;
      slot.beat.restore(saved.beat);
    }
  }
}
