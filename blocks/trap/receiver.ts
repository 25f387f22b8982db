import type * as dgram from 'node:dgram';
import * as snmp from 'net-snmp';
import { decodeTrap, Trap } from './decode';
import { Listen } from './rule';

/** ReceiverStats: what one receiver saw. */
export interface ReceiverStats {
  listen: string;
  state: 'listening' | 'failed' | 'closed';
  error?: string;
  /** Traps and informs decoded (each handed to the blocks that take it). */
  traps: number;
  /** Of those, the ones no block took (their OID or sender matched none). */
  unmatched: number;
  /** Packets refused: a community no block on this address accepts, SNMPv3, not a trap, not SNMP. */
  refused: number;
  lastRefused?: string;
}

/**
 * TrapReceiver is one UDP socket taking SNMP v1/v2c traps and informs through net-snmp's
 * receiver (which acknowledges an inform whose community it accepts). Only the communities
 * the blocks on this address accept are let through (setCommunities); everything else
 * is counted as refused, never thrown.
 */
export class TrapReceiver {
  private receiver?: { close(cb?: () => void): void; getAuthorizer(): { addCommunity(c: string): void; deleteCommunity(c: string): void }; listener: { sockets: Record<string, dgram.Socket> } };
  private communities = new Set<string>();
  readonly stats: ReceiverStats;

  /** onTrap hands a trap to the blocks; it answers whether one took it. */
  constructor(readonly listen: Listen, private readonly onTrap: (t: Trap) => boolean, private readonly now: () => number) {
    this.stats = { listen: listen.key, state: 'closed', traps: 0, unmatched: 0, refused: 0 };
  }

  /** start binds the socket; it resolves to undefined when listening, or to why not. */
  start(communities: ReadonlySet<string>): Promise<string | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (why: string | undefined): void => {
        if (settled) return;
        settled = true;
        this.stats.state = why === undefined ? 'listening' : 'failed';
        if (why !== undefined) this.stats.error = why;
        resolve(why);
      };
      try {
        this.receiver = snmp.createReceiver({
          port: this.listen.port,
          address: this.listen.host,
          transport: this.listen.family,
          includeAuthentication: true,
          communities: [],
        }, (err: (Error & { code?: string; syscall?: string }) | null, data: unknown) => {
          if (err) {
            if (err.syscall === 'bind' || (!settled && err.code)) return settle(bindWhy(err, this.listen));
            this.stats.refused++;
            this.stats.lastRefused = err.message.slice(0, 200);
            return;
          }
          const trap = decodeTrap(data as Parameters<typeof decodeTrap>[0], this.now());
          if (!trap) {
            this.stats.refused++;
            this.stats.lastRefused = 'not a trap, or a v2c trap without snmpTrapOID.0';
            return;
          }
          this.stats.traps++;
          if (!this.onTrap(trap)) this.stats.unmatched++;
        });
        this.setCommunities(communities);
        const sockets = Object.values(this.receiver!.listener.sockets);
        for (const s of sockets) s.once('listening', () => settle(undefined));
      } catch (err) {
        settle(bindWhy(err as Error, this.listen));
      }
    });
  }

  /** setCommunities makes the receiver accept exactly these communities. */
  setCommunities(next: ReadonlySet<string>): void {
    const auth = this.receiver?.getAuthorizer();
    if (!auth) return;
    for (const c of this.communities) if (!next.has(c)) auth.deleteCommunity(c);
    for (const c of next) if (!this.communities.has(c)) auth.addCommunity(c);
    this.communities = new Set(next);
  }

  /** close releases the socket. */
  close(): Promise<void> {
    const r = this.receiver;
    this.receiver = undefined;
    this.stats.state = 'closed';
    if (!r) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        const sockets = Object.values(r.listener.sockets);
        let open = sockets.length;
        if (open === 0) return resolve();
        for (const s of sockets) {
          try {
            s.close(() => { if (--open === 0) resolve(); });
          } catch {
            if (--open === 0) resolve(); // never bound
          }
        }
      } catch {
        resolve();
      }
    });
  }
}

/** bindWhy words a socket that cannot listen. */
function bindWhy(err: Error & { code?: string }, l: Listen): string {
  const hint = err.code === 'EACCES' && l.port < 1024 ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE; use e.g. 1162)'
    : err.code === 'EADDRINUSE' ? ' (another program, snmptrapd perhaps, has it)' : '';
  return `cannot listen on udp ${l.key}: ${err.code ?? err.message}${hint}`;
}
