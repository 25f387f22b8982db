/**
 * The raw-socket addon as the pinger uses it: opening a family's ICMP socket with its
 * kernel filter, the addon's native handle (direct sendto/recvfrom), and its errors.
 */
import { Family, icmpFilter } from './icmp';

export type RawSocketModule = typeof import('raw-socket');

/** PermissionError: the process may not open raw sockets (no root, no CAP_NET_RAW). */
export class PermissionError extends Error {}

/**
 * RawWrap is the addon's native handle (raw-socket 1.8 keeps it as `socket.wrap`): send
 * and recv call sendto()/recvfrom() at once and throw on an error (EAGAIN included). The
 * pinger uses it when present, and the public queued API otherwise (a stand-in in tests).
 */
export interface RawWrap {
  send(buffer: Buffer, offset: number, length: number, address: string, done: (bytes: number) => void): void;
  recv(buffer: Buffer, got: (buffer: Buffer, bytes: number, source: string) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  removeAllListeners(event: string): void;
}

/** rawWrap is the socket's native handle, if it has the shape the pinger knows. */
export function rawWrap(socket: import('raw-socket').Socket): RawWrap | undefined {
  const w = (socket as unknown as { wrap?: Partial<RawWrap> }).wrap;
  return w && typeof w.send === 'function' && typeof w.recv === 'function' && typeof w.on === 'function' && typeof w.removeAllListeners === 'function'
    ? (w as RawWrap)
    : undefined;
}

/** isWouldBlock tells EAGAIN (and a full send buffer) from real errors. */
export const isWouldBlock = (err: unknown): boolean => /temporarily unavailable|would block|no buffer space/i.test((err as Error)?.message ?? '');

/** Linux socket option levels and names that Node does not export. */
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;

/** openSocket opens the family's raw ICMP socket and sets its filter; PermissionError when raw sockets are not permitted. */
export function openSocket(raw: RawSocketModule, family: Family): import('raw-socket').Socket {
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
  return socket;
}

/** sendError words a send's error as a reason a packet was lost. */
export function sendError(err: Error): string {
  const m = err.message.replace(/\.$/, '');
  return m.charAt(0).toLowerCase() + m.slice(1);
}
