import type { NodeEvent } from '../bus';
import type { Config } from '../config/types';
import type { NodePlugin } from '../engine/plugin';
import type { SlaActions } from './actions';
import { Alerting, Sender } from './alerting';
import { bindAlerting } from './instance';
import { alertMetrics } from './metrics';
import { alertOps } from './ops';
import { ackLinkRoute } from './routes';
import { fromHeartbeat, fromSlaEvent } from './sources';

/** AlertsPluginOptions: how to find an SLA's actions (default: config.slas), how to send (default: the real channels). */
export interface AlertsPluginOptions {
  actions?: SlaActions;
  send?: Sender;
}

/**
 * alertsPlugin makes the alerts subsystem of a node: it hears `sla.state` events and
 * heartbeat results on the bus, keeps the alerts on the alert log under node.data/alerts,
 * escalates and notifies on the node's clock, and adds the alerts' operations (with their
 * REST routes), the /ack/:token route, and /metrics figures. Each change of an alert's state
 * goes on the bus as an `alert.state` event (the live hub shows it to pages). Its sections are
 * src/alerts/sections (contacts, schedules, escalations, silences, notify).
 */
export function alertsPlugin(o: AlertsPluginOptions = {}): NodePlugin & { installed: Alerting[] } {
  const installed: Alerting[] = [];
  return {
    name: 'alerts',
    installed,
    install(host) {
      // alert.state events go on the bus after the delivery in progress (an sla.state event's), in order.
      const publish = (event: NodeEvent): void => queueMicrotask(() => host.bus.publish({ samples: [], event }));
      // A repeated action records the SLA's values of now (slas.get), not those of its firing.
      const slaNow = async (name: string) => {
        if (!host.ops.get('slas.get')) return undefined;
        const v = (await host.ops.invoke('slas.get', { name }, { authorized: true, via: 'internal' })).value as { value: boolean | number | null; message: string };
        return { value: v.value, message: v.message };
      };
      const alerting = new Alerting({
        config: host.config, clock: host.clock, log: host.log.child({ subsystem: 'alerts' }), actions: o.actions, send: o.send, publish,
        shared: host.shared, store: host.store, slaNow,
      });
      installed.push(alerting);
      bindAlerting(host.node, alerting);
      // The hot path: one property test per message that is neither an event nor a heartbeat's.
      host.bus.subscribe('alerts', (m) => {
        const e = m.event;
        if (e !== undefined) {
          const t = e.kind === 'sla.state' ? fromSlaEvent(e) : undefined;
          if (t) alerting.transition(t);
          return;
        }
        const r = m.result;
        if (r !== undefined && r.trigger === 'signal' && r.type === 'heartbeat') {
          const t = fromHeartbeat(r, alerting.heartbeatOptions(r.block));
          if (t) alerting.transition(t);
        }
      });
      host.ops.add(...alertOps);
      host.routes.push(ackLinkRoute);
      host.metrics.set('alerts', alertMetrics(() => alerting));
      host.addComponent({ name: 'alerts', after: ['bus'], start: () => alerting.start(), stop: () => alerting.stop() });
    },
    reload(config: Config) {
      // One plugin object may serve several nodes of a process (tests): node.data tells them apart.
      for (const a of installed) if (a.currentConfig.node.data === config.node.data) a.reload(config);
    },
  };
}
