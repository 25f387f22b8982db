import * as crypto from 'node:crypto';
import { SocketAddress } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Clock, Deadlines, realClock } from '../../src/clock';
import { EchoTemplate, Family, MARKER_BYTES, parseIcmp, Received } from './icmp';
import { isWouldBlock, openSocket, PermissionError, RawSocketModule, RawWrap, rawWrap, sendError } from './raw';

export { PermissionError } from './raw';

/**
 * The shared ICMP pinger: one raw socket per address family for every ping block of the
 * process (liboping's lesson: a socket per host costs a wake-up and a filter pass per host
 * for every packet; one socket scales to thousands of targets). Echo requests carry the
 * process's identifier and a sequence number unique among the requests in flight; one
 * receive handler per socket matches replies (and ICMP errors quoting a request) to the
 * waiting probe, and one deadline heap per socket (one timer) ends the unanswered ones.
 *
 * Like fping, a request is sent with one sendto() when it is asked for, and a wake-up reads
 * every reply waiting: the addon's own queue would wait for a writable event per datagram
 * (two poll changes and a wake-up each) and read one datagram per wake-up. The runs the
 * scheduler starts in one wake-up (its 4 ms grid, one timer) thus send their requests in
 * one pass, and their replies are read together and fan out to the runs' callbacks. What a
 * request costs is kept small: no promise or closure of its own, a packet stamped into a
 * kept buffer, its probe found by sequence number in a table, replies read in place.
 *
 * A socket is opened when the first run of its family begins and closed once no run has
 * held it for a while (idleCloseMs), so a busy node keeps it and an idle one holds none.
 */

/** ProbeOutcome: a reply after rtt milliseconds, or none (`lost` says why, '' if just no reply). */
export type ProbeOutcome = { rtt: number } | { lost: string };

/**
 * ProbeDone hears how a probe ended: `rtt` milliseconds when a reply came back, or -1 and
 * `lost`, why not ('' if just no reply). A run passes one for all its probes, so a probe
 * costs no closure and no promise.
 */
export type ProbeDone = (rtt: number, lost: string) => void;

/** Probe is one echo request in flight; its session and done say whom to tell. */
class Probe {
  /** When the probe is given up (monotonic ms), and its slot in the socket's deadline heap. */
  alarm = Infinity;
  heapIndex = -1;
  sentAt = 0;
  constructor(
    readonly seq: number,
    /** Canonical text of the target address, as the socket reports sources. */
    readonly address: string,
    readonly session: SessionImpl,
    readonly done: ProbeDone,
  ) {}
}

/** At most this many datagrams are read in one wake-up (others wait for the next). */
const MAX_READS_PER_WAKE = 256;
const noop = (): void => {};
const ECHO_REPLY: Record<Family, number> = { 4: 0, 6: 129 };

/** unrefClock is the real clock with timers that do not keep the process alive. */
const unrefClock: Clock = { ...realClock, setTimer: (fn, ms) => setTimeout(fn, ms).unref() };

/** canonicalAddress is the text form a raw socket reports a source in (fd00:0::2 → fd00::2). */
export function canonicalAddress(address: string, family: Family): string {
  return family === 6 ? new SocketAddress({ address, family: 'ipv6' }).address : address;
}

/**
 * A socket no run has held for this long is closed. Opening one costs a few system calls,
 * so blocks running every second or faster keep it; an idle node holds none.
 */
export const IDLE_CLOSE_MS = 2000;

/**
 * FamilySocket is one raw socket and the probes in flight on it, found by sequence number
 * in a table of 65,536 slots (the identifier is the process's own).
 */
class FamilySocket {
  private readonly slots: Array<Probe | undefined> = new Array(0x10000).fill(undefined);
  inFlight = 0;
  private nextSeq = crypto.randomInt(0x10000);
  leases = 0;
  closed = false;
  /** Closes the socket once it has been idle long enough (see IcmpPinger.unlease). */
  idleTimer: NodeJS.Timeout | undefined;
  /** When the last session ended (monotonic ms). */
  idleSince = 0;

  /** Reply deadlines: one timer, kept (lazy) while replies come in; unref'd, as the socket keeps the process alive while a probe waits. */
  private readonly deadlines = new Deadlines<Probe>(unrefClock, (p) => this.settle(p, -1, ''), { monotonic: true, lazy: true });
  private readonly wrap: RawWrap | undefined;
  private readonly readBuffer: Buffer | undefined;
  /** Echo requests by payload size, stamped with a sequence number per send. */
  private readonly templates = new Map<number, EchoTemplate>();
  /** Set once a direct send would block: sends go through the addon's queue until it drains. */
  private queued = 0;
  private readonly got = (buf: Buffer, bytes: number, source: string): void => this.receive(buf, bytes, source);

  constructor(private readonly pinger: IcmpPinger, readonly family: Family, private readonly socket: import('raw-socket').Socket) {
    this.wrap = rawWrap(socket);
    if (this.wrap) {
      this.readBuffer = Buffer.alloc(65_536 + 60);
      this.wrap.removeAllListeners('recvReady');
      this.wrap.on('recvReady', () => this.drain());
    } else {
      socket.on('message', (buf, source) => this.receive(buf, buf.length, source));
    }
    socket.on('error', (err) => this.fail(`ICMP socket error: ${err.message}`));
    socket.on('close', () => this.fail('ICMP socket closed'));
  }

  /** probe sends one echo request now; done hears how it ends (at the latest after waitMs). */
  probe(address: string, size: number, waitMs: number, session: SessionImpl, done: ProbeDone): void {
    const seq = this.allocateSeq();
    if (seq < 0) return done(-1, 'too many echo requests in flight');
    const probe = new Probe(seq, address, session, done);
    this.slots[seq] = probe;
    this.inFlight++;
    session.pending++;
    (session.probes ??= []).push(probe);
    probe.sentAt = performance.now();
    this.deadlines.set(probe, probe.sentAt + waitMs);
    let t = this.templates.get(size);
    if (!t) this.templates.set(size, (t = new EchoTemplate(this.family, this.pinger.ident, this.pinger.marker, size)));
    this.send(probe, t.stamp(seq));
  }

  /** settle ends a probe in flight (once) and tells its run. */
  settle(probe: Probe, rtt: number, lost: string): void {
    if (this.slots[probe.seq] !== probe) return;
    this.slots[probe.seq] = undefined;
    this.inFlight--;
    probe.session.pending--;
    this.deadlines.delete(probe);
    probe.done(rtt, lost);
  }

  /** send writes the request now (sendto) or, when the socket would block, queues a copy in the addon. */
  private send(probe: Probe, packet: Buffer): void {
    if (this.wrap && this.queued === 0) {
      try {
        this.wrap.send(packet, 0, packet.length, probe.address, noop);
        return;
      } catch (err) {
        if (!isWouldBlock(err)) return this.settle(probe, -1, sendError(err as Error));
      }
    }
    this.queued++;
    const copy = Buffer.from(packet);
    this.socket.send(copy, 0, copy.length, probe.address, () => { probe.sentAt = performance.now(); }, (err) => {
      this.queued--;
      if (err) this.settle(probe, -1, sendError(err));
    });
  }

  /**
   * drain reads the datagrams waiting (one wake-up, many replies), until it would block or
   * no request is in flight any more. The addon throws an Error at EAGAIN (made here without
   * a stack trace); stopping once nothing is awaited saves most of those: what is left is
   * read at the next wake-up (the poll is level-triggered), one datagram at least each time.
   */
  private drain(): void {
    const wrap = this.wrap!;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let i = 0; i < MAX_READS_PER_WAKE && !this.closed; i++) {
        wrap.recv(this.readBuffer!, this.got);
        if (this.inFlight === 0) break;
      }
    } catch (err) {
      if (!isWouldBlock(err)) {
        Error.stackTraceLimit = limit;
        this.socket.emit('error', err);
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** allocateSeq picks the next sequence number not in flight, or -1 when all 65,536 are. */
  private allocateSeq(): number {
    for (let tries = 0; tries < 0x10000; tries++) {
      const seq = this.nextSeq;
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
      if (this.slots[seq] === undefined) return seq;
    }
    return -1;
  }

  /**
   * receive matches a datagram to its probe: an echo reply is read in place (identifier,
   * sequence number, marker), anything else goes through parseIcmp (errors quoting a request).
   */
  private receive(buf: Buffer, bytes: number, source: string): void {
    const now = performance.now();
    const at = this.family === 4 ? (buf[0] & 0x0f) * 4 : 0;
    if (bytes - at < 8) return;
    if (buf[at] === ECHO_REPLY[this.family]) {
      if (((buf[at + 4] << 8) | buf[at + 5]) !== this.pinger.ident) return;
      const probe = this.slots[(buf[at + 6] << 8) | buf[at + 7]];
      if (!probe || source !== probe.address) return; // late, a duplicate, or not ours
      const marker = this.pinger.marker;
      const n = Math.min(MARKER_BYTES, bytes - at - 8);
      for (let i = 0; i < n; i++) if (buf[at + 8 + i] !== marker[i]) return;
      this.pinger.received++;
      return this.settle(probe, now - probe.sentAt, '');
    }
    let r: Received | undefined;
    try {
      r = parseIcmp(this.family, buf.subarray(0, bytes));
    } catch {
      return; // a truncated or odd datagram is not ours
    }
    if (!r || r.kind !== 'error' || r.ident !== this.pinger.ident) return;
    const probe = this.slots[r.seq];
    if (probe && r.to === probe.address) this.settle(probe, -1, `${r.reason} (from ${source})`);
  }

  /** fail ends every probe in flight, once the socket is unusable. */
  private fail(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pinger.dropped(this);
    if (this.inFlight === 0) return;
    for (const p of this.slots) if (p) this.settle(p, -1, why);
  }

  close(): void {
    if (this.closed) return;
    clearTimeout(this.idleTimer);
    this.socket.close(); // emits close: fail() settles what is left
    this.deadlines.stop();
  }
}

/** PingerStats: what tests and /metrics-minded callers may watch. */
export interface PingerStats {
  /** Sockets opened so far, per family. */
  opened: Record<Family, number>;
  /** Sockets open now, per family (0 or 1). */
  open: Record<Family, number>;
  inFlight: number;
  sent: number;
  received: number;
}

/**
 * Session is one run's hold on a family's socket. release() ends it: probes of the run
 * still in flight end as lost ('cancelled'), and the socket closes if no run holds it.
 */
export interface Session {
  probe(address: string, size: number, waitMs: number): Promise<ProbeOutcome>;
  /** send is probe without a promise: done hears the outcome (rtt, or -1 and why lost). */
  send(address: string, size: number, waitMs: number, done: ProbeDone): void;
  release(): void;
}

/** SessionImpl: a session and the probes it sent (those still in flight are cancelled at release). */
class SessionImpl implements Session {
  pending = 0;
  probes: Probe[] | undefined;
  private released = false;
  constructor(private readonly pinger: IcmpPinger, private readonly sock: FamilySocket) {}

  probe(address: string, size: number, waitMs: number): Promise<ProbeOutcome> {
    return new Promise((resolve) => this.send(address, size, waitMs, (rtt, lost) => resolve(rtt >= 0 ? { rtt } : { lost })));
  }

  send(address: string, size: number, waitMs: number, done: ProbeDone): void {
    if (this.sock.closed || this.released) return done(-1, 'ICMP socket closed');
    this.pinger.sent++;
    this.sock.probe(address, size, waitMs, this, done);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.pending > 0) for (const p of this.probes!) this.sock.settle(p, -1, 'cancelled');
    this.probes = undefined;
    this.pinger.unlease(this.sock);
  }
}

/** IcmpPinger owns the shared sockets. Use sharedPinger(); tests may make their own. */
export class IcmpPinger {
  /** The ICMP identifier of this process's echo requests. */
  readonly ident = (process.pid ^ crypto.randomInt(0x10000)) & 0xffff;
  /** Payload bytes that tell our replies from another process's with the same identifier. */
  readonly marker = crypto.randomBytes(MARKER_BYTES);
  private readonly sockets = new Map<Family, FamilySocket>();
  private readonly openedCount: Record<Family, number> = { 4: 0, 6: 0 };
  sent = 0;
  received = 0;

  /**
   * load gives the raw-socket module (tests give a stand-in); a socket no run holds is
   * closed after idleCloseMs.
   */
  constructor(
    private readonly load: () => RawSocketModule = () => require('raw-socket') as RawSocketModule,
    private readonly idleCloseMs = IDLE_CLOSE_MS,
  ) {}

  /**
   * session holds the family's socket open for one run, opening it if needed. Throws
   * PermissionError when raw sockets are not permitted, another Error when the socket
   * cannot be opened for other reasons (the addon is missing, IPv6 is disabled).
   */
  session(family: Family): Session {
    const sock = this.socketFor(family);
    sock.leases++;
    return new SessionImpl(this, sock);
  }

  /**
   * unlease ends a session's hold on its socket. The last one notes when the socket went
   * idle and arms the idle close if it is not armed (one timer, not one per run): when it
   * fires, a socket held again is left alone, one idle for less than idleCloseMs waits on.
   */
  unlease(sock: FamilySocket): void {
    if (--sock.leases > 0) return;
    sock.idleSince = performance.now();
    if (!sock.idleTimer) this.armIdle(sock, this.idleCloseMs);
  }

  private armIdle(sock: FamilySocket, ms: number): void {
    sock.idleTimer = setTimeout(() => {
      sock.idleTimer = undefined;
      if (sock.leases > 0 || sock.closed) return;
      const left = sock.idleSince + this.idleCloseMs - performance.now();
      if (left > 0) this.armIdle(sock, left);
      else sock.close();
    }, ms);
  }

  private socketFor(family: Family): FamilySocket {
    const existing = this.sockets.get(family);
    if (existing && !existing.closed) return existing;
    const socket = openSocket(this.load(), family); // throws PermissionError
    const sock = new FamilySocket(this, family, socket);
    this.sockets.set(family, sock);
    this.openedCount[family]++;
    return sock;
  }

  /** dropped forgets a socket that closed (idle, or after an error). */
  dropped(sock: FamilySocket): void {
    if (this.sockets.get(sock.family) === sock) this.sockets.delete(sock.family);
  }

  stats(): PingerStats {
    const open = (f: Family): number => (this.sockets.get(f)?.closed === false ? 1 : 0);
    let inFlight = 0;
    for (const s of this.sockets.values()) inFlight += s.inFlight;
    return { opened: { ...this.openedCount }, open: { 4: open(4), 6: open(6) }, inFlight, sent: this.sent, received: this.received };
  }

  /** closeIdle closes the sockets no run holds now, without waiting for idleCloseMs. */
  closeIdle(): void {
    for (const s of [...this.sockets.values()]) if (s.leases === 0) s.close();
  }

  /** close closes both sockets now; probes in flight end as lost. */
  close(): void {
    for (const s of [...this.sockets.values()]) s.close();
  }
}

let shared: IcmpPinger | undefined;

/** sharedPinger is the process's one pinger, made on first use. */
export function sharedPinger(): IcmpPinger {
  shared ??= new IcmpPinger();
  return shared;
}
