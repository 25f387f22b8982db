import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { LiveHub } from '../live/hub';
import type { RouteDeps, UpgradeRoute } from '../web/server';
import { ConnectionLimits, DEFAULT_LIMITS, RpcConnection } from './connection';
import { opInvoker } from './invoke';
import { MAX_MESSAGE } from './protocol';

/** SocketsOptions: the live hub, the most connections at once, per-connection limits. */
export interface SocketsOptions {
  hub: LiveHub;
  /** Connections at once (default 1000); more are answered 503. */
  maxConnections?: number;
  limits?: Partial<ConnectionLimits>;
  /** How often idle clients are pinged (default 30 s); one that missed the last ping is cut off. */
  pingMs?: number;
}

/**
 * RpcSockets is the WebSocket side of /rpc: it takes upgrades (behind the Guard, which has
 * checked Host and Origin), makes an RpcConnection with the rights of the upgrade request
 * (a bearer header or the browser session cookie), pings idle clients, and closes every
 * connection when the node stops. Messages are at most 256 kB (larger ones close the
 * connection with 1009).
 */
export class RpcSockets {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false, clientTracking: false });
  readonly connections = new Set<RpcConnection>();
  private readonly limits: ConnectionLimits;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: SocketsOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
  }

  /** route is the upgrade route of /rpc. */
  route(deps: RouteDeps): UpgradeRoute {
    return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = req.url ?? '/';
      if (url !== '/rpc' && !url.startsWith('/rpc?')) return false;
      const max = this.o.maxConnections ?? 1000;
      if (this.stopped || this.connections.size >= max) {
        const body = this.stopped ? 'the node is stopping' : `too many WebSocket connections (at most ${max})`;
        socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return true;
      }
      const invoke = opInvoker(deps.ops, deps.authorized(req), deps.log);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const c = new RpcConnection(ws, this.o.hub, invoke, this.limits);
        this.connections.add(c);
        ws.on('close', () => this.connections.delete(c));
        this.startPings();
      });
      return true;
    };
  }

  private startPings(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      for (const c of this.connections) c.ping();
    }, this.o.pingMs ?? 30_000);
    this.timer.unref();
  }

  /** stop closes every connection (1001, going away) and takes no more. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const c of this.connections) c.close(1001, 'the node is stopping');
    this.connections.clear();
  }
}
