import * as dns from 'node:dns';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_EVERY_MS, DEFAULT_TIMEOUT_MS } from '../../src/config/build';
import { BlockInstance, BlockType, durationSchema, JsonSchema, RunContext, RunOutput } from '../../src/engine/block';
import { Logger } from '../../src/log';
import { formatDuration, parseDuration } from '../../src/util/duration';
import { execPing, PingTally } from './exec';
import { Family, MARKER_BYTES } from './icmp';
import { canonicalAddress, PermissionError, sharedPinger } from './pinger';

/** PingOptions: the block's keys in monitor.yaml (see README.md). */
export interface PingOptions {
  name: string;
  host: string;
  count?: number;
  interval?: string;
  size?: number;
  wait?: string;
  max_loss_pct?: number;
  family?: 'ipv4' | 'ipv6';
  every?: string;
  timeout?: string;
}

/** Defaults of the ping block's options. */
/** PING_FIELDS are the fields of a run (the rtt ones when a reply came back). */
export const PING_FIELDS = ['sent', 'received', 'loss_pct', 'rtt_min_ms', 'rtt_avg_ms', 'rtt_max_ms', 'rtt_mdev_ms'] as const;
export const PING_DEFAULTS = { count: 3, intervalMs: 200, size: 56, waitMs: 2000, maxLossPct: 100 };
const MIN_INTERVAL_MS = 10;

/**
 * runBudgetMs is how long a run may take: the block's timeout less a margin, so the run
 * ends with its own tally (packets unanswered by then count as lost) before the engine
 * would abort it.
 */
export function runBudgetMs(o: Pick<PingOptions, 'every' | 'timeout'>): number {
  const every = o.every ? parseDuration(o.every) ?? DEFAULT_EVERY_MS : DEFAULT_EVERY_MS;
  const timeout = o.timeout ? parseDuration(o.timeout) ?? DEFAULT_TIMEOUT_MS : Math.min(DEFAULT_TIMEOUT_MS, every);
  return timeout - Math.min(200, timeout * 0.1);
}

/** ADDON_MISSING: the codes of require() errors when the raw-socket addon is not installed or not built for this Node. */
export const ADDON_MISSING = new Set(['MODULE_NOT_FOUND', 'ERR_DLOPEN_FAILED']);

/** How the pinging is done: the shared raw sockets, or the system ping per run. */
type Method = 'raw' | 'exec';

/** Process-wide: set when raw sockets turned out not to be permitted (or not available). */
let rawUnavailable: string | undefined;
let fallbackLogged = false;

/** pingMethod: `forced` (REMON_PING_METHOD=raw|exec) forces one; otherwise raw unless it failed. */
function pingMethod(log: Logger, forced: string | undefined): Method {
  if (forced === 'raw' || forced === 'exec') {
    if (forced === 'exec' && !fallbackLogged) {
      fallbackLogged = true;
      log.info({ REMON_PING_METHOD: forced }, 'ping blocks run the system ping binary');
    }
    return forced;
  }
  return rawUnavailable === undefined ? 'raw' : 'exec';
}

/** fallBack records that raw sockets cannot be used, and says so once per process. */
function fallBack(log: Logger, why: string): void {
  rawUnavailable = why;
  if (fallbackLogged) return;
  fallbackLogged = true;
  log.warn({ error: why }, 'raw ICMP sockets unavailable; ping blocks run the system ping binary instead (one process per run)');
}

/** resetPingMethod forgets an earlier fallback (tests). */
export function resetPingMethod(): void {
  rawUnavailable = undefined;
  fallbackLogged = false;
}

interface Target {
  address: string;
  family: Family;
}

const DNS_ERRORS: Record<string, string> = {
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
};

/** resolve turns the host into one address, once per run. */
async function resolve(host: string, want: PingOptions['family'], signal: AbortSignal): Promise<Target | string> {
  const literal = net.isIP(host);
  if (literal) return { address: canonicalAddress(host, literal as Family), family: literal as Family };
  const lookup = dns.promises.lookup(host, { family: want === 'ipv4' ? 4 : want === 'ipv6' ? 6 : 0 });
  // A lookup cannot be cancelled; an aborted run just stops waiting for it.
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const r = await Promise.race([lookup, aborted]);
    return { address: canonicalAddress(r.address, r.family as Family), family: r.family as Family };
  } catch (err) {
    if (signal.aborted) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const noneOfFamily = want && (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NODATA');
    const why = noneOfFamily ? `no ${want === 'ipv4' ? 'IPv4' : 'IPv6'} address` : DNS_ERRORS[code] ?? (err as Error).message;
    return `cannot resolve ${host}: ${why}${code ? ` (${code})` : ''}`;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

interface Plan {
  count: number;
  intervalMs: number;
  size: number;
  waitMs: number;
  /** performance.now() by which the run reports. */
  deadline: number;
}

/** whenAborted calls fn when the run is aborted (at once if it is); it returns how to stop listening. */
function whenAborted(ctx: RunContext, fn: () => void): () => void {
  if (ctx.onAbort) return ctx.onAbort(fn);
  const signal = ctx.signal;
  if (signal.aborted) {
    fn();
    return () => {};
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/**
 * rawPing sends the run's echo requests through the shared socket of the family, one now
 * and the others `intervalMs` apart, and tallies them as they end: no promise per request,
 * one for the run. It throws PermissionError (at once) when raw sockets are not permitted.
 */
function rawPing(t: Target, p: Plan, ctx: RunContext): Promise<PingTally> {
  const session = sharedPinger().session(t.family); // throws PermissionError
  return new Promise((resolve) => {
    let aborted = false;
    let stopListening = (): void => {};
    // Each request's outcome by its place in the run: rtt ms, or -1 and why it was lost.
    const rtt: number[] = [];
    const lost: string[] = [];
    const start = performance.now();
    let sent = 0;
    let ended = 0;
    let sending = true;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      stopListening();
      session.release();
      const rtts: number[] = [];
      const reasons: string[] = [];
      for (let i = 0; i < sent; i++) {
        if (rtt[i] >= 0) rtts.push(rtt[i]);
        else if (lost[i]) reasons.push(lost[i]);
      }
      resolve({ sent, received: rtts.length, rtts, reasons });
    };
    /** stopSending: no more requests; the run ends when those in flight have. */
    const stopSending = (): void => {
      sending = false;
      if (timer) clearTimeout(timer);
      if (ended === sent) finish();
    };
    // An aborted run (timeout, node stopping) ends its requests in flight at once.
    const onAbort = (): void => {
      aborted = true;
      stopSending();
      session.release(); // cancels those in flight: their outcomes end the run
    };
    const next = (): void => {
      timer = undefined;
      const left = p.deadline - performance.now();
      if (!sending || left <= 0 || aborted) return stopSending();
      const i = sent++;
      session.send(t.address, p.size, Math.min(p.waitMs, left), (ms, why) => {
        rtt[i] = ms;
        lost[i] = why;
        ended++;
        if (!sending && ended === sent) finish();
      });
      const due = start + sent * p.intervalMs;
      if (sent >= p.count || due >= p.deadline) return stopSending();
      timer = setTimeout(next, Math.max(0, due - performance.now()));
    };
    stopListening = whenAborted(ctx, onAbort);
    if (!finished) next();
  });
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** rttStats is ping's min/avg/max/mdev (mdev: the population standard deviation). */
export function rttStats(rtts: number[]): { min: number; avg: number; max: number; mdev: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sum2 = 0;
  for (const r of rtts) {
    min = Math.min(min, r);
    max = Math.max(max, r);
    sum += r;
    sum2 += r * r;
  }
  const avg = sum / rtts.length;
  return { min, avg, max, mdev: Math.sqrt(Math.max(0, sum2 / rtts.length - avg * avg)) };
}

/** summarize turns a run's tally into the block's fields, verdict and ping-like output. */
export function summarize(host: string, target: Target, tally: PingTally, maxLossPct: number, method: Method): RunOutput {
  const who = host === target.address ? target.address : `${host} (${target.address})`;
  if (tally.error) return { ok: false, message: `${who}: ${tally.error}` };
  const { sent, received } = tally;
  const lost = sent - received;
  const lossPct = sent === 0 ? 100 : round3((lost / sent) * 100);
  const rtt = tally.rtt ?? (tally.rtts && tally.rtts.length > 0 ? rttStats(tally.rtts) : undefined);
  // Each kind of fields object made in one literal (one shape each, no properties added).
  let fields: Record<string, number>;
  let output = `PING ${who}${method === 'exec' ? ' via the system ping' : ''}: ${sent} packets transmitted, ${received} received, ${lossPct}% packet loss`;
  if (received > 0 && rtt) {
    fields = { sent, received, loss_pct: lossPct, rtt_min_ms: round3(rtt.min), rtt_avg_ms: round3(rtt.avg), rtt_max_ms: round3(rtt.max), rtt_mdev_ms: round3(rtt.mdev) };
    output += `\nrtt min/avg/max/mdev = ${rtt.min.toFixed(3)}/${rtt.avg.toFixed(3)}/${rtt.max.toFixed(3)}/${rtt.mdev.toFixed(3)} ms`;
  } else {
    fields = { sent, received, loss_pct: lossPct };
  }
  const why = tally.reasons.length === 0 ? [] : [...new Set(tally.reasons)];
  if (why.length > 0) output += `\n${why.join('\n')}`;
  const because = why.length > 0 ? `: ${why.join('; ')}` : '';
  if (received === 0) return { ok: false, fields, message: `no reply from ${who}: ${lost} of ${sent} packets lost${because}`, output };
  if (lossPct > maxLossPct) {
    return { ok: false, fields, message: `${lossPct}% packet loss to ${who} (${lost} of ${sent} lost), over max_loss_pct ${maxLossPct}${because}`, output };
  }
  return { ok: true, fields, output };
}

class PingBlock implements BlockInstance {
  private readonly plan: Omit<Plan, 'deadline'>;
  private readonly budgetMs: number;
  /** The target when host is an address (no lookup per run). */
  private readonly literal: Target | undefined;
  /** REMON_PING_METHOD, read once. */
  private readonly forced = process.env.REMON_PING_METHOD;
  constructor(private readonly o: PingOptions, private readonly log: Logger) {
    const family = net.isIP(o.host) as Family | 0;
    if (family) this.literal = { address: canonicalAddress(o.host, family), family };
    this.plan = {
      count: o.count ?? PING_DEFAULTS.count,
      intervalMs: o.interval ? parseDuration(o.interval)! : PING_DEFAULTS.intervalMs,
      size: o.size ?? PING_DEFAULTS.size,
      waitMs: o.wait ? parseDuration(o.wait)! : PING_DEFAULTS.waitMs,
    };
    this.budgetMs = runBudgetMs(o);
  }

  async run(ctx: RunContext): Promise<RunOutput> {
    const deadline = performance.now() + this.budgetMs;
    const target = this.literal ?? (await resolve(this.o.host, this.o.family, ctx.signal));
    if (typeof target === 'string') return { ok: false, message: target };
    const { count, intervalMs, size, waitMs } = this.plan;
    const plan: Plan = { count, intervalMs, size, waitMs, deadline };
    let method = pingMethod(this.log, this.forced);
    let tally: PingTally | undefined;
    if (method === 'raw') {
      try {
        tally = await rawPing(target, plan, ctx);
      } catch (err) {
        const m = (err as Error).message;
        const forced = this.forced === 'raw';
        if (err instanceof PermissionError && !forced) fallBack(this.log, m);
        else if (ADDON_MISSING.has((err as NodeJS.ErrnoException).code ?? '') && !forced) fallBack(this.log, `the raw-socket addon cannot be loaded: ${m.split('\n')[0]}`);
        else return { ok: false, message: `cannot open an ICMP${target.family === 6 ? 'v6' : ''} socket: ${m}` };
        method = 'exec';
      }
    }
    tally ??= await execPing({
      ...plan,
      address: target.address,
      family: target.family,
      deadlineMs: Math.max(1, deadline - performance.now()),
      signal: ctx.signal,
    });
    return summarize(this.o.host, target, tally, this.o.max_loss_pct ?? PING_DEFAULTS.maxLossPct, method);
  }
}

const duration = (description: string): JsonSchema => durationSchema('200ms, 1s or 2s', description);

/**
 * pingBlock sends ICMP echo requests to a host (IPv4 or IPv6) and reports loss and
 * round-trip times. All ping blocks of a node share one raw socket per address family
 * (see pinger.ts); without permission for raw sockets it runs the system ping instead.
 */
export const pingBlock: BlockType<PingOptions> = {
  type: 'ping',
  description: 'ICMP echo to a host: packet loss and round-trip times (min/avg/max/mdev).',
  schema: {
    required: ['host'],
    properties: {
      host: { type: 'string', minLength: 1, 'x-expected': 'a host name or an IPv4/IPv6 address', description: 'Host name (resolved once per run) or IP address.' },
      count: { type: 'integer', minimum: 1, maximum: 10000, description: `Echo requests per run (default ${PING_DEFAULTS.count}).` },
      interval: duration(`Time between two echo requests of a run (default ${PING_DEFAULTS.intervalMs}ms, at least ${MIN_INTERVAL_MS}ms).`),
      size: { type: 'integer', minimum: MARKER_BYTES, maximum: 65500, description: `Payload bytes of each echo request (default ${PING_DEFAULTS.size}).` },
      wait: duration('How long a reply is waited for after its request was sent (default 2s); later replies count as lost.'),
      max_loss_pct: { type: 'number', minimum: 0, maximum: 100, description: 'The run fails when more than this percentage of packets is lost (default 100: only when no reply came back).' },
      family: { type: 'string', enum: ['ipv4', 'ipv6'], 'x-expected': 'ipv4 or ipv6', description: 'Resolve the host to this IP version only (default: the first address the resolver gives).' },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    const interval = o.interval ? parseDuration(o.interval) : PING_DEFAULTS.intervalMs;
    if (interval !== undefined && interval < MIN_INTERVAL_MS) problems.push(['interval', `must be at least ${MIN_INTERVAL_MS}ms; got "${o.interval}"`]);
    if (o.wait !== undefined && parseDuration(o.wait) === 0) problems.push(['wait', `must be longer than 0s; got "${o.wait}"`]);
    const literal = typeof o.host === 'string' ? net.isIP(o.host) : 0;
    if (literal && o.family && o.family !== `ipv${literal}`) problems.push(['family', `is ${o.family}, but host ${o.host} is an IPv${literal} address; remove family or change host`]);
    const count = o.count ?? PING_DEFAULTS.count;
    const budget = runBudgetMs(o);
    if (interval !== undefined && interval >= MIN_INTERVAL_MS && (count - 1) * interval >= budget) {
      const timeout = o.timeout ?? formatDuration(Math.min(DEFAULT_TIMEOUT_MS, o.every ? parseDuration(o.every) ?? DEFAULT_EVERY_MS : DEFAULT_EVERY_MS));
      problems.push(['count', `${count} requests ${formatDuration(interval)} apart take ${formatDuration((count - 1) * interval)} to send, more than the run's timeout ${timeout} allows; raise timeout or lower count or interval`]);
    }
    return problems;
  },
  fields: () => PING_FIELDS,
  create(o, env) {
    return new PingBlock(o, env.log);
  },
  // The shared sockets belong to the process, not to a node; a stopping node closes them
  // if no run (of another node in the process) holds them, rather than after they idle.
  hub: () => ({ stop: async () => sharedPinger().closeIdle() }),
};
