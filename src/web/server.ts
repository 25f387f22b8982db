import express, { Express, Request, Response } from 'express';
import * as http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { isLoopback } from '../util/url';
import type { OpTable } from '../ops/table';
import { requestAuthorized } from './auth';
import { Guard } from './guard';
import { errorHandler, mountRest } from './rest';
import { sessionRoute } from './routes/session';

/** RawRoute answers a request outside express when it is its own (returns true): hot paths. */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * UpgradeRoute takes a WebSocket (or other) upgrade when it is its own (returns true). The
 * Guard has passed the request already (Host and Origin checked).
 */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** RouteDeps is what a route module gets: the operations, the log, the token. */
export interface RouteDeps {
  ops: OpTable;
  log: Logger;
  token?: string;
  /** authorized: whether a request may write (the token as a bearer header or the browser session cookie). */
  authorized(req: IncomingMessage): boolean;
}

/**
 * WebRoute is a module of routes. The node's routes are a list that subsystems add to (the
 * operations' REST routes are mounted from the table itself); raw routes are tried first,
 * in list order, then express routes in list order.
 */
export interface WebRoute {
  name: string;
  raw?(deps: RouteDeps): RawRoute;
  upgrade?(deps: RouteDeps): UpgradeRoute;
  mount?(app: Express, deps: RouteDeps): void;
  /** fallback: mounted after every other route, so that any of them wins (the drop-in pages, which answer /NAME). */
  fallback?: boolean;
}

/** WebOptions: where to listen, the token, the operations and the route modules. */
export interface WebOptions {
  listen: { host: string; port: number };
  token?: string;
  log: Logger;
  ops: OpTable;
  routes: readonly WebRoute[];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * WebServer is the one HTTP server of a node: the UI, the API, heartbeat endpoints and
 * RPC are all routes on it. It knows the node only through the operations table and the
 * route modules it is given; every request passes the Guard (Host, Origin, JSON writes)
 * before any route sees it.
 */
export class WebServer {
  readonly app = express();
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly raw: RawRoute[];
  private readonly upgrades: UpgradeRoute[];
  private readonly guard: Guard;
  url?: string;

  constructor(private readonly options: WebOptions) {
    const { ops, log, token } = options;
    const deps: RouteDeps = { ops, log, token, authorized: (req) => requestAuthorized(req, token) };
    this.guard = new Guard({ listen: options.listen });
    this.app.disable('x-powered-by');
    this.app.set('json spaces', 0);
    this.app.set('query parser', 'simple');
    this.raw = options.routes.flatMap((r) => (r.raw ? [r.raw(deps)] : []));
    this.upgrades = options.routes.flatMap((r) => (r.upgrade ? [r.upgrade(deps)] : []));
    mountRest(this.app, ops, token, log);
    sessionRoute.mount!(this.app, deps);
    for (const r of options.routes) if (!r.fallback) r.mount?.(this.app, deps);
    for (const r of options.routes) if (r.fallback) r.mount?.(this.app, deps);
    this.app.use((req: Request, res: Response) => {
      res.status(404).json({ error: `no route for ${req.method} ${req.path.slice(0, 200)}` });
    });
    this.app.use(errorHandler(log));
  }

  /** start listens on node.listen; refuses a non-loopback address without a token. */
  async start(): Promise<void> {
    const { host, port } = this.options.listen;
    if (!isLoopback(host) && !this.options.token) {
      throw createError('REMON_ERR_WEB_INSECURE_LISTEN', `refusing to listen on ${host} without node.token`);
    }
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // Broken HTTP gets a 400 and the socket closed, never an exception.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(createError('REMON_ERR_WEB_LISTEN', `cannot listen on ${host}:${port}: ${errorMessage(err)}`, err)));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `http://${h}:${addr.port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const refused = this.guard.check(req);
    if (refused) {
      req.resume();
      res.setHeader('connection', 'close');
      return sendJson(res, refused.status, { error: refused.error, code: refused.code });
    }
    try {
      if (!this.raw.some((route) => route(req, res))) void this.app(req, res);
    } catch (err) {
      this.options.log.error({ err: errorMessage(err), path: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    }
  }

  /** upgrade passes the Guard, then the upgrade routes; one that nobody takes is refused. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refused = this.guard.check(req);
    const taken = !refused && this.upgrades.some((route) => route(req, socket, head));
    if (taken) return;
    const status = refused ? `${refused.status} Forbidden` : '404 Not Found';
    const body = refused ? refused.error : `no upgrade for ${String(req.url).slice(0, 200)}`;
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  /** server is the listening HTTP server (for upgrade routes that need it), once started. */
  get httpServer(): http.Server | undefined {
    return this.server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive connections would hold close() open.
      server.closeIdleConnections();
      setTimeout(() => this.sockets.forEach((s) => s.destroy()), 1000).unref();
    });
  }
}
