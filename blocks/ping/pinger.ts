import * as crypto from 'node:crypto';
import { SocketAddress } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Deadlines, realClock } from '../../src/clock';
import { echoRequest, Family, icmpFilter, MARKER_BYTES, parseIcmp, Received } from './icmp';

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
 * (two poll changes and a wake-up each) and read one datagram per wake-up.
 *
 * A socket is opened when the first run of its family begins and closed once no run has
 * held it for a while (idleCloseMs), so a busy node keeps it and an idle one holds none.
 */

/** ProbeOutcome: a reply after rtt milliseconds, or none (`lost` says why, '' if just no reply). */
export type ProbeOutcome = { rtt: number } | { lost: string };

type RawSocketModule = typeof import('raw-socket');

interface Probe {
  seq: number;
  /** Canonical text of the target address, as the socket reports sources. */
  address: string;
  sentAt: number;
  /** When the probe is given up (monotonic ms), and its slot in the socket's deadline heap. */
  alarm: number;
  heapIndex: number;
  settle(o: ProbeOutcome): void;
}

/**
 * RawWrap is the addon's native handle (raw-socket 1.8 keeps it as `socket.wrap`): send
 * and recv call sendto()/recvfrom() at once and throw on an error (EAGAIN included). The
 * pinger uses it when present, and the public queued API otherwise (a stand-in in tests).
 */
interface RawWrap {
  send(buffer: Buffer, offset: number, length: number, address: string, done: (bytes: number) => void): void;
  recv(buffer: Buffer, got: (buffer: Buffer, bytes: number, source: string) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  removeAllListeners(event: string): void;
}

/** rawWrap is the socket's native handle, if it has the shape the pinger knows. */
function rawWrap(socket: import('raw-socket').Socket): RawWrap | undefined {
  const w = (socket as unknown as { wrap?: Partial<RawWrap> }).wrap;
  return w && typeof w.send === 'function' && typeof w.recv === 'function' && typeof w.on === 'function' && typeof w.removeAllListeners === 'function'
    ? (w as RawWrap)
    : undefined;
}

/** At most this many datagrams are read in one wake-up (others wait for the next). */
const MAX_READS_PER_WAKE = 256;
const noop = (): void => {};
const isWouldBlock = (err: unknown): boolean => /temporarily unavailable|would block|no buffer space/i.test((err as Error)?.message ?? '');

/** Linux socket option levels and names that Node does not export. */
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;

/** canonicalAddress is the text form a raw socket reports a source in (fd00:0::2 → fd00::2). */
export function canonicalAddress(address: string, family: Family): string {
  return family === 6 ? new SocketAddress({ address, family: 'ipv6' }).address : address;
}

/**
 * A socket no run has held for this long is closed. Opening one costs a few system calls,
 * so blocks running every second or faster keep it; an idle node holds none.
 */
export const IDLE_CLOSE_MS = 2000;

/** PermissionError: the process may not open raw sockets (no root, no CAP_NET_RAW). */
export class PermissionError extends Error {}

/** FamilySocket is one raw socket and the probes in flight on it. */
class FamilySocket {
  readonly inFlight = new Map<number, Probe>();
  private nextSeq = crypto.randomInt(0x10000);
  leases = 0;
  closed = false;
  /** Closes the socket once it has been idle long enough; cleared when a run takes it. */
  idleTimer: NodeJS.Timeout | undefined;

  private readonly deadlines = new Deadlines<Probe>(realClock, (p) => p.settle({ lost: '' }), { monotonic: true });
  private readonly wrap: RawWrap | undefined;
  private readonly readBuffer: Buffer | undefined;
  /** Set once a direct send would block: sends go through the addon's queue until it drains. */
  private queued = 0;

  constructor(private readonly pinger: IcmpPinger, readonly family: Family, private readonly socket: import('raw-socket').Socket) {
    this.wrap = rawWrap(socket);
    if (this.wrap) {
      this.readBuffer = Buffer.alloc(65_536 + 60);
      this.wrap.removeAllListeners('recvReady');
      this.wrap.on('recvReady', () => this.drain());
    } else {
      socket.on('message', (buf, source) => this.receive(buf, source));
    }
    socket.on('error', (err) => this.fail(`ICMP socket error: ${err.message}`));
    socket.on('close', () => this.fail('ICMP socket closed'));
  }

  /** probe sends one echo request; `owned` collects it while in flight, for cancelling. */
  probe(address: string, size: number, waitMs: number, owned: Set<Probe>): Promise<ProbeOutcome> {
    return new Promise((resolve) => {
      const seq = this.allocateSeq();
      if (seq < 0) return resolve({ lost: 'too many echo requests in flight' });
      const probe: Probe = {
        seq,
        address,
        sentAt: performance.now(),
        alarm: Infinity,
        heapIndex: -1,
        settle: (o) => {
          if (this.inFlight.get(seq) !== probe) return;
          this.inFlight.delete(seq);
          owned.delete(probe);
          this.deadlines.delete(probe);
          resolve(o);
        },
      };
      this.inFlight.set(seq, probe);
      owned.add(probe);
      this.deadlines.set(probe, probe.sentAt + waitMs);
      this.send(probe, echoRequest(this.family, this.pinger.ident, seq, this.pinger.marker, size));
    });
  }

  /** send writes the request now (sendto) or, when the socket would block, queues it in the addon. */
  private send(probe: Probe, packet: Buffer): void {
    if (this.wrap && this.queued === 0) {
      try {
        probe.sentAt = performance.now();
        this.wrap.send(packet, 0, packet.length, probe.address, noop);
        return;
      } catch (err) {
        if (!isWouldBlock(err)) return probe.settle({ lost: sendError(err as Error) });
      }
    }
    this.queued++;
    this.socket.send(packet, 0, packet.length, probe.address, () => { probe.sentAt = performance.now(); }, (err) => {
      this.queued--;
      if (err) probe.settle({ lost: sendError(err) });
    });
  }

  /** drain reads the datagrams waiting (one wake-up, many replies), until it would block. */
  private drain(): void {
    const wrap = this.wrap!;
    const got = (buf: Buffer, bytes: number, source: string): void => this.receive(buf.subarray(0, bytes), source);
    for (let i = 0; i < MAX_READS_PER_WAKE && !this.closed; i++) {
      try {
        wrap.recv(this.readBuffer!, got);
      } catch (err) {
        if (!isWouldBlock(err)) this.socket.emit('error', err);
        return;
      }
    }
  }

  /** allocateSeq picks the next sequence number not in flight, or -1 when all 65,536 are. */
  private allocateSeq(): number {
    for (let tries = 0; tries < 0x10000; tries++) {
      const seq = this.nextSeq;
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
      if (!this.inFlight.has(seq)) return seq;
    }
    return -1;
  }

  private receive(buf: Buffer, source: string): void {
    const now = performance.now();
    let r: Received | undefined;
    try {
      r = parseIcmp(this.family, buf);
    } catch {
      return; // a truncated or odd datagram is not ours
    }
    if (!r || r.ident !== this.pinger.ident) return;
    const probe = this.inFlight.get(r.seq);
    if (!probe) return; // late, or a duplicate
    if (r.kind === 'reply') {
      if (source !== probe.address || !r.marker.equals(this.pinger.marker.subarray(0, r.marker.length))) return;
      this.pinger.received++;
      probe.settle({ rtt: now - probe.sentAt });
    } else if (r.to === probe.address) {
      probe.settle({ lost: `${r.reason} (from ${source})` });
    }
  }

  /** fail ends every probe in flight, once the socket is unusable. */
  private fail(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pinger.dropped(this);
    for (const p of [...this.inFlight.values()]) p.settle({ lost: why });
  }

  close(): void {
    if (this.closed) return;
    clearTimeout(this.idleTimer);
    this.socket.close(); // emits close: fail() settles what is left
    this.deadlines.stop();
  }
}

function sendError(err: Error): string {
  const m = err.message.replace(/\.$/, '');
  return m.charAt(0).toLowerCase() + m.slice(1);
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
  release(): void;
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
    clearTimeout(sock.idleTimer);
    const owned = new Set<Probe>();
    let released = false;
    return {
      probe: (address, size, waitMs) => {
        if (sock.closed || released) return Promise.resolve({ lost: 'ICMP socket closed' });
        this.sent++;
        return sock.probe(address, size, waitMs, owned);
      },
      release: () => {
        if (released) return;
        released = true;
        for (const p of [...owned]) p.settle({ lost: 'cancelled' });
        sock.leases--;
        if (sock.leases === 0) sock.idleTimer = setTimeout(() => sock.close(), this.idleCloseMs);
      },
    };
  }

  private socketFor(family: Family): FamilySocket {
    const existing = this.sockets.get(family);
    if (existing && !existing.closed) return existing;
    const raw = this.load();
    let socket: import('raw-socket').Socket;
    try {
      socket = raw.createSocket({
        addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
        protocol: family === 4 ? raw.Protocol.ICMP : raw.Protocol.ICMPv6,
        // Room for the largest reply (IP header included for IPv4).
        bufferSize: 65_536 + 60,
      });
    } catch (err) {
      const m = (err as Error).message;
      if (/not permitted|permission denied/i.test(m)) throw new PermissionError(m);
      throw err;
    }
    try {
      const filter = icmpFilter(family);
      if (family === 4) socket.setOption(SOL_RAW, ICMP_FILTER, filter, filter.length);
      else socket.setOption(IPPROTO_ICMPV6, ICMP6_FILTER, filter, filter.length);
    } catch {
      // Only an optimisation: without the filter, parseIcmp skips what is not ours.
    }
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
    for (const s of this.sockets.values()) inFlight += s.inFlight.size;
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
