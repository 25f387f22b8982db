import express, { NextFunction, Request, Response } from 'express';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import type { Engine } from '../engine/engine';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { isLoopback } from '../util/url';
import { mountApi } from './routes/api';
import { mountHealth } from './routes/health';
import { heartbeatSignals, mountHeartbeats, RawRoute } from './routes/heartbeat';
import { mountMetrics } from './routes/metrics';

/** WebOptions: the engine whose state is served. Address and token come from its config. */
export interface WebOptions {
  engine: Engine;
  log: Logger;
}

/** RouteDeps is what each route module gets. */
export interface RouteDeps {
  engine: Engine;
  log: Logger;
  token?: string;
}

/**
 * WebServer is the one HTTP server of a node (express): the UI, the API, heartbeat
 * endpoints and RPC are all routes on it, mounted by their own modules.
 */
export class WebServer {
  readonly app = express();
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  /** Hot routes answered before express (heartbeat signals). */
  private readonly raw: RawRoute[];
  url?: string;

  constructor(private readonly options: WebOptions) {
    const { engine, log } = options;
    const deps: RouteDeps = { engine, log, token: engine.config.node.token };
    this.app.disable('x-powered-by');
    this.app.set('json spaces', 0);
    mountHealth(this.app, deps);
    mountApi(this.app, deps);
    mountMetrics(this.app, deps);
    mountHeartbeats(this.app, deps);
    this.raw = [heartbeatSignals(deps)];
    this.app.use((req: Request, res: Response) => {
      res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
    });
    // Bad input gets a 4xx with a reason; anything else is logged and answered 500.
    this.app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
      const status = (err as { status?: number }).status ?? 500;
      if (status >= 500) log.error({ err: errorMessage(err), path: req.path }, 'request failed');
      res.status(status).json({ error: status >= 500 ? 'internal error' : errorMessage(err) });
    });
  }

  /** start listens on node.listen; refuses a non-loopback address without a token. */
  async start(): Promise<void> {
    const { host, port } = this.options.engine.config.node.listen;
    if (!isLoopback(host) && !this.options.engine.config.node.token) {
      throw createError('REMON_ERR_WEB_INSECURE_LISTEN', `refusing to listen on ${host} without node.token`);
    }
    const server = http.createServer((req, res) => {
      if (!this.raw.some((route) => route(req, res))) void this.app(req, res);
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
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
