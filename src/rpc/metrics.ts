import type { LiveHub } from '../live/hub';
import type { Collector } from '../web/routes/metrics';
import { metricFamily } from '../web/routes/metrics';
import type { RpcSockets } from './sockets';

/**
 * liveMetrics are the live hub's figures on /metrics: WebSocket connections, subscriptions
 * by topic, live events sent to clients and dropped for slow ones.
 */
export function liveMetrics(hub: LiveHub, sockets: RpcSockets): Collector {
  return () => {
    const s = hub.stats();
    let sent = 0;
    let dropped = 0;
    for (const c of sockets.connections) {
      sent += c.stats.sent;
      dropped += c.stats.dropped;
    }
    return [
      ...metricFamily('remon_rpc_connections', 'gauge', 'WebSocket /rpc connections open.', [`remon_rpc_connections ${sockets.connections.size}`]),
      ...metricFamily('remon_live_subscriptions', 'gauge', 'Live subscriptions, by topic.', Object.entries(s.subscriptions).map(([t, n]) => `remon_live_subscriptions{topic="${t}"} ${n}`)),
      ...metricFamily('remon_live_events_total', 'counter', 'Live events handed to connections.', [`remon_live_events_total ${s.events}`]),
      ...metricFamily('remon_live_sent_events', 'gauge', 'Live events sent by the connections open now.', [`remon_live_sent_events ${sent}`]),
      ...metricFamily('remon_live_dropped_events', 'gauge', 'Live events dropped for slow clients, by the connections open now.', [`remon_live_dropped_events ${dropped}`]),
    ];
  };
}
