/**
 * ICMP echo packets for IPv4 (RFC 792) and IPv6 (RFC 4443): building echo requests and
 * reading what a raw socket receives — echo replies, and the errors a router or the local
 * stack sends back about a request (destination unreachable, time exceeded), which quote
 * the request's header so they can be matched to it.
 */

/** Family is the IP version of a target. */
export type Family = 4 | 6;

const ECHO_REQUEST: Record<Family, number> = { 4: 8, 6: 128 };
const ECHO_REPLY: Record<Family, number> = { 4: 0, 6: 129 };
/** Bytes of the payload that carry the process's marker; `size` is at least this. */
export const MARKER_BYTES = 8;

/** checksum is the Internet checksum (RFC 1071) of buf, as it goes in the header. */
export function checksum(buf: Uint8Array): number {
  let sum = 0;
  const n = buf.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (buf.length & 1) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * echoRequest builds an echo request with `size` payload bytes: the marker first, then the
 * byte pattern ping uses (0x08, 0x09, ...). IPv6 leaves the checksum to the kernel, which
 * computes it over the pseudo-header for ICMPv6 raw sockets.
 */
export function echoRequest(family: Family, ident: number, seq: number, marker: Buffer, size: number): Buffer {
  const b = Buffer.alloc(8 + size);
  b[0] = ECHO_REQUEST[family];
  b.writeUInt16BE(ident, 4);
  b.writeUInt16BE(seq, 6);
  marker.copy(b, 8, 0, Math.min(MARKER_BYTES, size));
  for (let i = MARKER_BYTES; i < size; i++) b[8 + i] = (i + 8) & 0xff;
  if (family === 4) b.writeUInt16BE(checksum(b), 2);
  return b;
}

/**
 * EchoTemplate is one echo request of a given size, kept to be sent again and again: stamp
 * writes a sequence number and the checksum that goes with it (the sum of the rest is kept,
 * RFC 1624's incremental update), so a request costs no allocation and no pass over the
 * payload. The buffer is reused: it must be sent (or copied) before the next stamp.
 */
export class EchoTemplate {
  readonly packet: Buffer;
  /** The one's complement sum of the request with seq and checksum 0, folded to 16 bits. */
  private readonly sum: number;
  constructor(private readonly family: Family, ident: number, marker: Buffer, size: number) {
    this.packet = echoRequest(family, ident, 0, marker, size);
    this.packet.writeUInt16BE(0, 2);
    this.sum = ~checksum(this.packet) & 0xffff;
  }

  /** stamp makes the packet the request with sequence number seq, and returns it. */
  stamp(seq: number): Buffer {
    const b = this.packet;
    b[6] = seq >>> 8;
    b[7] = seq & 0xff;
    if (this.family === 4) {
      let sum = this.sum + seq;
      sum = (sum & 0xffff) + (sum >>> 16);
      const c = ~sum & 0xffff;
      b[2] = c >>> 8;
      b[3] = c & 0xff;
    }
    return b;
  }
}

/** Received is what a raw ICMP socket got, as far as pinging cares. */
export type Received =
  | { kind: 'reply'; ident: number; seq: number; marker: Buffer }
  /** An error about one of our echo requests; `to` is the request's destination. */
  | { kind: 'error'; ident: number; seq: number; to: string; reason: string };

/**
 * parseIcmp reads one datagram of a raw ICMP socket: for IPv4 it starts with the IP
 * header, for IPv6 with the ICMPv6 header. Anything but an echo reply or an error that
 * quotes an echo request gives undefined.
 */
export function parseIcmp(family: Family, packet: Buffer): Received | undefined {
  const icmp = family === 4 ? packet.subarray((packet[0] & 0x0f) * 4) : packet;
  if (icmp.length < 8) return undefined;
  const type = icmp[0];
  if (type === ECHO_REPLY[family]) {
    return { kind: 'reply', ident: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6), marker: icmp.subarray(8, 8 + MARKER_BYTES) };
  }
  const reason = errorReason(family, type, icmp[1]);
  if (reason === undefined) return undefined;
  // The error quotes the offending packet: its IP header and at least 8 bytes after it.
  const quoted = icmp.subarray(8);
  let inner: Buffer;
  let to: string;
  if (family === 4) {
    if (quoted.length < 20 || quoted[0] >> 4 !== 4 || quoted[9] !== 1) return undefined;
    inner = quoted.subarray((quoted[0] & 0x0f) * 4);
    to = Array.from(quoted.subarray(16, 20)).join('.');
  } else {
    // An extension header between the IPv6 header and ours is not something ping sends.
    if (quoted.length < 40 || quoted[0] >> 4 !== 6 || quoted[6] !== 58) return undefined;
    inner = quoted.subarray(40);
    to = ipv6String(quoted.subarray(24, 40));
  }
  if (inner.length < 8 || inner[0] !== ECHO_REQUEST[family]) return undefined;
  return { kind: 'error', ident: inner.readUInt16BE(4), seq: inner.readUInt16BE(6), to, reason };
}

const UNREACHABLE_V4: Record<number, string> = {
  0: 'network unreachable',
  1: 'destination host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  5: 'source route failed',
  6: 'destination network unknown',
  7: 'destination host unknown',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};
const UNREACHABLE_V6: Record<number, string> = {
  0: 'no route to destination',
  1: 'communication administratively prohibited',
  2: 'beyond scope of source address',
  3: 'destination address unreachable',
  4: 'port unreachable',
  5: 'source address failed policy',
  6: 'reject route to destination',
};

/** errorReason words an ICMP error type/code the way ping does; undefined if not an error. */
function errorReason(family: Family, type: number, code: number): string | undefined {
  if (family === 4) {
    if (type === 3) return UNREACHABLE_V4[code] ?? `destination unreachable (code ${code})`;
    if (type === 11) return code === 0 ? 'time to live exceeded' : 'fragment reassembly time exceeded';
    return undefined;
  }
  if (type === 1) return UNREACHABLE_V6[code] ?? `destination unreachable (code ${code})`;
  if (type === 2) return 'packet too big';
  if (type === 3) return code === 0 ? 'hop limit exceeded' : 'fragment reassembly time exceeded';
  return undefined;
}

/** ipv6String renders 16 bytes in the canonical text form (RFC 5952), as inet_ntop does. */
export function ipv6String(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${Array.from(b.subarray(12)).join('.')}`;
  // The longest run of two or more zero words becomes "::" (the first, on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/**
 * icmpFilter is the Linux ICMP_FILTER (IPv4) or ICMP6_FILTER (IPv6) socket option value
 * that lets only echo replies and errors through, so the socket is not woken by the echo
 * requests the host receives (including, on loopback, our own). A set bit blocks a type.
 */
export function icmpFilter(family: Family): Buffer {
  const pass = family === 4 ? [0, 3, 11] : [1, 2, 3, 129];
  const words = new Uint32Array(family === 4 ? 1 : 8).fill(0xffffffff);
  for (const t of pass) words[t >> 5] &= ~(1 << (t & 31));
  return Buffer.from(words.buffer);
}
