import type { Clock } from '../clock';
import { MAX_SLEEP_MS } from '../clock';
import type { Config } from '../config/types';
import { createError } from '../errors';
import type { AlertBook } from './book';
import type { Matchers } from './config';
import type { Silence } from './types';

/** NewSilence is what POST /api/silences takes, parsed. */
export interface NewSilence {
  match: Matchers;
  from?: number;
  until: number;
  comment: string;
  by?: string;
}

/** KEEP_EXPIRED_MS: silences that ended are listed for a week, then forgotten at the next snapshot. */
const KEEP_EXPIRED_MS = 7 * 86_400_000;
/** MAX_ACTIVE: silences made over the API that have not ended; one more is refused. */
export const MAX_ACTIVE = 1000;
/** MAX_LISTED: GET /api/silences answers at most this many (monitor.yaml's, then the newest). */
export const MAX_LISTED = 2000;

/**
 * SilenceBook is the node's silences: those of monitor.yaml (ids yaml-1, yaml-2, ...) and
 * those made over the API (s1, s2, ...; kept on the alert log). A timer on the node's
 * clock wakes at each silence's start and end, so held alerts resume when one ends.
 */
export class SilenceBook {
  private fromConfig: Silence[] = [];
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly book: AlertBook,
    private readonly clock: Clock,
    private readonly config: () => Config,
    private readonly changed: () => void,
  ) {}

  start(): void {
    this.reload();
  }

  /** reload takes monitor.yaml's silences again and re-arms the timer. */
  reload(): void {
    const now = this.clock.now();
    this.fromConfig = this.config().silences.map((s, i) => ({ id: `yaml-${i + 1}`, ...s, createdAt: now, source: 'monitor.yaml' as const }));
    this.changed();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
  }

  /** all lists every silence (active or not): monitor.yaml's, then the API's. */
  all(): Silence[] {
    return [...this.fromConfig, ...this.book.silences.values()];
  }

  /** list is all() without API silences that ended more than a week ago, at most MAX_LISTED (the newest). */
  list(): Silence[] {
    const now = this.clock.now();
    const kept = this.all().filter((s) => Math.min(s.until, s.expiredAt ?? Infinity) > now - KEEP_EXPIRED_MS);
    return kept.length > MAX_LISTED ? [...this.fromConfig, ...kept.slice(-(MAX_LISTED - this.fromConfig.length))] : kept;
  }

  /** create adds a silence made over the API; it is on the alert log when this returns. */
  create(n: NewSilence): Silence {
    const now = this.clock.now();
    if (n.until <= now) throw createError('REMON_ERR_OP_PARAMS', `until: must be in the future; got ${new Date(n.until).toISOString()}`);
    if (n.from !== undefined && n.from >= n.until) throw createError('REMON_ERR_OP_PARAMS', 'until: must be after from');
    let active = 0;
    for (const x of this.book.silences.values()) if (x.expiredAt === undefined && x.until > now) active++;
    if (active >= MAX_ACTIVE) throw createError('REMON_ERR_SILENCE_LIMIT', `${active} silences made over the API are active, the most a node keeps; expire some (POST /api/silences/ID/expire) first`);
    const s: Silence = { id: `s${this.book.nextSilence}`, match: n.match, until: n.until, comment: n.comment, createdAt: now, source: 'api', ...(n.from !== undefined && { from: n.from }), ...(n.by && { by: n.by }) };
    this.book.write({ k: 'sil', s });
    this.arm();
    return s;
  }

  /** expire ends an API silence now; held alerts it covered resume. */
  expire(id: string): Silence {
    const s = this.book.silences.get(id);
    if (!s) {
      const yaml = this.fromConfig.some((x) => x.id === id);
      throw createError(yaml ? 'REMON_ERR_ALERT_STATE' : 'REMON_ERR_ALERT_UNKNOWN', yaml ? `silence ${id} is in monitor.yaml; remove it there` : `no silence has id "${String(id).slice(0, 50)}"`);
    }
    if (s.expiredAt === undefined) this.book.write({ k: 'unsil', sid: id, t: this.clock.now() });
    this.changed();
    this.arm();
    return s;
  }

  /** arm sets the timer to the next start or end of a silence. */
  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const now = this.clock.now();
    let next = Infinity;
    for (const s of this.all()) {
      if (s.expiredAt !== undefined) continue;
      if (s.from !== undefined && s.from > now) next = Math.min(next, s.from);
      if (s.until > now) next = Math.min(next, s.until);
    }
    if (next === Infinity) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.changed();
      this.arm();
    }, Math.min(MAX_SLEEP_MS, next - now));
  }
}
