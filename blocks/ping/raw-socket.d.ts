/** The part of the raw-socket package (a native addon, no types of its own) that remon uses. */
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';

  export interface SocketOptions {
    protocol?: number;
    /** AddressFamily.IPv4 (1) or AddressFamily.IPv6 (2). */
    addressFamily?: number;
    /** Receive buffer; a datagram longer than this is cut. */
    bufferSize?: number;
  }

  export interface Socket extends EventEmitter {
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'close', listener: () => void): this;
    /** Queues a datagram; beforeSend runs just before sendto, afterSend with its outcome. */
    send(buffer: Buffer, offset: number, length: number, address: string, beforeSend: () => void, afterSend: (err: Error | null, bytes: number) => void): this;
    setOption(level: number, option: number, value: Buffer | number, length?: number): void;
    close(): this;
  }

  /** createSocket opens the socket at once; it throws (e.g. "Operation not permitted") when it cannot. */
  export function createSocket(options?: SocketOptions): Socket;
  export const AddressFamily: { IPv4: number; IPv6: number };
  export const Protocol: { ICMP: number; ICMPv6: number };
}
