import * as fs from 'node:fs';
import { DurableLog } from '../durable/log';
import { createError, errorMessage } from '../errors';
import type { Logger } from '../log';
import { claimDir, DirClaim } from '../util/dirlock';
import { formatDuration } from '../util/duration';
import type { Alert, AlertRecord, HistoryEntry, Silence } from './types';

/** MAX_RESOLVED: resolved alerts kept for the API, newest; older ones are forgotten. */
export const MAX_RESOLVED = 1000;
const MAX_HISTORY = 200;
const MAX_ACTIONS = 100;
/** Segments holding more than this are folded into a snapshot. */
const COMPACT_BYTES = 16 * 2 ** 20;
const DAY_MS = 86_400_000;

type SavedAlert = Omit<Alert, 'sent' | 'told' | 'links' | 'held'> & { sent: Array<[string, string]>; told: string[]; links: string[] };

/** BookState is what a snapshot keeps. */
interface BookState {
  nextId: number;
  nextSilence: number;
  alerts: SavedAlert[];
  silences: Silence[];
  actionTimes: Array<[string, number[]]>;
}

/** newAlert is an alert opened by an `open` record. */
function newAlert(r: Extract<AlertRecord, { k: 'open' }>): Alert {
  return {
    id: r.id, key: r.key, source: r.src, sla: r.sla, labels: r.labels, severity: r.sev, ...(r.esc !== undefined && { escalate: r.esc }),
    dependsOn: r.dep, state: r.st, since: r.t, startedAt: r.t, ...(r.st === 'firing' && { firedAt: r.t }), value: r.v, message: r.m,
    quiet: r.q === 1, run: r.st === 'firing' ? 1 : 0, runAt: r.t, acks: 0, steps: [], sent: new Map(), told: new Set(), links: new Set(), history: [], actions: [],
  };
}

/**
 * AlertBook holds the alerts, the silences made over the API and the times SLA actions
 * ran, and keeps them on the alert log in node.data/alerts (the one durable log): every
 * change is a record written (appendSync: in the kernel, so it survives kill -9) before it
 * takes effect, and replaying the records gives the same state. The notification log is
 * part of it: a step (who is told of what) is written before its deliveries go out, each
 * delivery's outcome after, so a restart sends what was not sent and nothing twice.
 */
export class AlertBook {
  readonly alerts = new Map<string, Alert>();
  /** Alert id by key, for alerts not resolved. */
  readonly active = new Map<string, string>();
  readonly silences = new Map<string, Silence>();
  /** `${sla}#${action index}` → the times it ran in the last day (and the last run). */
  readonly actionTimes = new Map<string, number[]>();
  nextId = 1;
  nextSilence = 1;
  private log?: DurableLog;
  private claim?: DirClaim;
  private resolved = 0;

  constructor(private readonly dir: string, private readonly logger: Logger) {}

  /** open reads the log (snapshot, then records) into memory. */
  open(): { records: number; skipped: number } {
    let skipped = 0;
    let records = 0;
    const parse = (buf: Buffer): unknown => {
      try {
        return JSON.parse(buf.toString('utf8'));
      } catch {
        skipped++;
        return undefined;
      }
    };
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      this.claim = claimDir(this.dir, 'REMON_ERR_DATA_IN_USE', 'the alert log');
      this.log = DurableLog.open({ dir: this.dir, name: 'alerts', what: 'the alert log', log: this.logger }, {
        snapshot: (buf) => {
          const s = parse(buf) as BookState | undefined;
          if (s) this.restore(s);
        },
        record: (buf) => {
          const r = parse(buf) as AlertRecord | undefined;
          if (!r) return;
          records++;
          this.apply(r);
        },
      });
    } catch (err) {
      this.claim?.release();
      if ((err as { code?: string }).code === 'REMON_ERR_DATA_IN_USE') throw err;
      throw createError('REMON_ERR_ALERT_LOG', `cannot open the alert log in ${this.dir}: ${errorMessage(err)}`, err);
    }
    skipped += this.log.opened.damaged;
    return { records, skipped };
  }

  /** write makes a record durable (in the kernel) and applies it; REMON_ERR_ALERT_LOG when it cannot. */
  write(r: AlertRecord): void {
    if (!this.log || this.log.isClosed) throw createError('REMON_ERR_ALERT_LOG', 'the alert log is not open');
    try {
      this.log.appendSync(JSON.stringify(r));
    } catch (err) {
      throw createError('REMON_ERR_ALERT_LOG', `cannot write the alert log: ${errorMessage(err)}`, err);
    }
    this.apply(r);
    this.maybeCompact();
  }

  /** apply makes a record take effect (live, or replayed at open). */
  apply(r: AlertRecord): void {
    if (r.k === 'sil') {
      this.silences.set(r.s.id, r.s);
      this.nextSilence = Math.max(this.nextSilence, Number(r.s.id.replace(/^\D+/, '')) + 1 || this.nextSilence);
      return;
    }
    if (r.k === 'unsil') {
      const s = this.silences.get(r.sid);
      if (s) s.expiredAt = r.t;
      return;
    }
    if (r.k === 'open') {
      const a = newAlert(r);
      this.alerts.set(a.id, a);
      this.active.set(a.key, a.id);
      this.nextId = Math.max(this.nextId, Number(a.id) + 1);
      note(a, r.t, r.st, `${r.m}${r.q ? ' (within the SLA\'s cooldown: nobody is told)' : ''}`);
      return;
    }
    const a = this.alerts.get(r.id);
    if (!a) return; // forgotten (an old resolved alert)
    switch (r.k) {
      case 'state':
        return this.applyState(a, r);
      case 'run':
        a.run++;
        a.runAt = r.t;
        a.held = undefined;
        if (a.run > 1) note(a, r.t, 'escalation', 'escalation starts over from level 1');
        return;
      case 'step':
        a.steps.push(r.s);
        if (r.s.kind === 'firing') for (const c of r.s.to) a.told.add(c);
        note(a, r.s.at, 'notify', `${r.s.kind}${r.s.level ? ` level ${r.s.level}` : ''} to ${r.s.to.join(', ') || 'nobody'}`);
        return;
      case 'sent':
        for (const key of r.keys) a.sent.set(key, r.r);
        if (r.r !== 'sent') note(a, r.t, r.r, `${r.keys.map((k) => k.split('|').slice(1).join(' by ')).join(', ')}${r.e ? `: ${r.e}` : ''}`);
        return;
      case 'note':
        note(a, r.t, r.what, r.m);
        return;
      case 'act': {
        // A finished run takes the place of the entry it started as.
        const i = r.run.status === 'running' ? -1 : a.actions.findIndex((x) => x.status === 'running' && x.at === r.run.at && x.action === r.run.action);
        if (i >= 0) a.actions[i] = r.run;
        else a.actions.push(r.run);
        if (a.actions.length > MAX_ACTIONS) a.actions.shift();
        if (r.run.status === 'running') {
          const key = `${r.sla}#${r.i}`;
          const times = (this.actionTimes.get(key) ?? []).filter((t) => t > r.t - DAY_MS);
          times.push(r.t);
          this.actionTimes.set(key, times);
        }
        const g = r.run.guard;
        const read = g && r.run.status === 'running' ? `${g.source} ${g.value}${g.after !== undefined ? ` → ${g.after}` : ''}` : undefined;
        note(a, r.t, 'action', `${r.run.action}: ${r.run.status}${r.run.detail ?? read ? ` (${r.run.detail ?? read})` : ''}`);
        return;
      }
    }
  }

  private applyState(a: Alert, r: Extract<AlertRecord, { k: 'state' }>): void {
    const from = a.state;
    a.state = r.st;
    a.since = r.t;
    if (r.v !== undefined) a.value = r.v;
    if (r.m !== undefined) a.message = r.m;
    if (r.nonce) a.links.add(r.nonce);
    let words = r.m ?? '';
    if (r.st === 'firing') {
      a.firedAt ??= r.t;
      a.run++;
      a.runAt = r.t;
      a.held = undefined;
      a.ackedAt = undefined;
      if (from === 'acknowledged') words = `acknowledgement timed out${r.why ? ` (${r.why})` : ''}; escalation resumes`;
    } else if (r.st === 'acknowledged') {
      a.ackedAt = r.t;
      a.ackedBy = r.by;
      a.acks++;
      words = `by ${r.by ?? 'someone'}${r.c ? `: ${r.c}` : ''}`;
    } else if (r.st === 'resolved') {
      a.resolvedAt = r.t;
      this.active.delete(a.key);
      words = `${a.firedAt !== undefined ? `after ${formatDuration(Math.max(0, r.t - a.firedAt))}` : 'never fired'}${r.m ? `: ${r.m}` : ''}`;
      this.forgetOld();
    }
    note(a, r.t, r.st, words);
  }

  /** forgetOld drops the oldest resolved alerts beyond MAX_RESOLVED. */
  private forgetOld(): void {
    if (++this.resolved % 100 !== 0) return;
    const resolved = [...this.alerts.values()].filter((x) => x.state === 'resolved');
    for (const x of resolved.slice(0, Math.max(0, resolved.length - MAX_RESOLVED))) this.alerts.delete(x.id);
  }

  /** activeAlert is the alert not resolved with this key, if any. */
  activeAlert(key: string): Alert | undefined {
    const id = this.active.get(key);
    return id === undefined ? undefined : this.alerts.get(id);
  }

  private state(): BookState {
    return {
      nextId: this.nextId,
      nextSilence: this.nextSilence,
      alerts: [...this.alerts.values()].map(({ sent, told, links, held: _h, ...rest }) => ({ ...rest, sent: [...sent], told: [...told], links: [...links] })),
      silences: [...this.silences.values()],
      actionTimes: [...this.actionTimes],
    };
  }

  private restore(s: BookState): void {
    this.nextId = s.nextId;
    this.nextSilence = s.nextSilence;
    for (const saved of s.alerts) {
      const a: Alert = { ...saved, sent: new Map(saved.sent as Array<[string, Alert['sent'] extends Map<string, infer O> ? O : never]>), told: new Set(saved.told), links: new Set(saved.links) };
      this.alerts.set(a.id, a);
      if (a.state !== 'resolved') this.active.set(a.key, a.id);
    }
    for (const sil of s.silences) this.silences.set(sil.id, sil);
    for (const [k, v] of s.actionTimes) this.actionTimes.set(k, v);
  }

  /** compact writes a snapshot of the state and drops the records it covers. */
  compact(): void {
    if (!this.log || this.log.isClosed) return;
    try {
      this.log.compactSync([JSON.stringify(this.state())]);
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'alert log snapshot failed; the log keeps everything');
    }
  }

  private maybeCompact(): void {
    let bytes = 0;
    for (const s of this.log!.segments) bytes += s.bytes;
    if (bytes > COMPACT_BYTES) this.compact();
  }

  /** close closes the log (its records are in the kernel already). */
  close(): void {
    this.log?.closeSync();
    this.claim?.release();
    this.log = undefined;
  }

  get stats() {
    return this.log?.stats;
  }
}

/** note adds a line to an alert's history (the oldest go beyond MAX_HISTORY). */
export function note(a: Alert, at: number, what: string, message: string): void {
  const entry: HistoryEntry = { at, what, message };
  a.history.push(entry);
  if (a.history.length > MAX_HISTORY) a.history.splice(0, a.history.length - MAX_HISTORY);
}
