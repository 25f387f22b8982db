import type { NodePlugin } from '../engine/plugin';
import { LiveHub } from '../live/hub';
import type { WebRoute } from '../web/server';
import type { ConnectionLimits } from './connection';
import { postRpc } from './http';
import { liveMetrics } from './metrics';
import { RpcSockets } from './sockets';

/** RpcPluginOptions: bounds of the WebSocket side (tests make them small). */
export interface RpcPluginOptions {
  maxConnections?: number;
  limits?: Partial<ConnectionLimits>;
  pingMs?: number;
}

/**
 * rpcPlugin makes a node's JSON-RPC: `POST /rpc` and the WebSocket `/rpc` over the
 * operations table, and the live hub behind `live.subscribe` (a bus subscriber named
 * `live`, isolated like the others). Its figures are on /metrics and `live.stats`.
 */
export function rpcPlugin(o: RpcPluginOptions = {}): NodePlugin & { installed: Array<{ hub: LiveHub; sockets: RpcSockets }> } {
  const installed: Array<{ hub: LiveHub; sockets: RpcSockets }> = [];
  return {
    name: 'rpc',
    installed,
    install(host) {
      const hub = new LiveHub(host.shared.state);
      const sockets = new RpcSockets({ hub, ...o });
      installed.push({ hub, sockets });
      host.bus.subscribe('live', (m) => hub.handle(m));
      const route: WebRoute = { name: 'rpc', raw: postRpc, upgrade: (deps) => sockets.route(deps) };
      host.routes.push(route);
      host.metrics.set('live', liveMetrics(hub, sockets));
      // Stopped before the web server, so clients hear "going away" rather than a cut.
      host.addComponent({ name: 'rpc', after: ['web'], stop: () => sockets.stop() });
    },
  };
}
