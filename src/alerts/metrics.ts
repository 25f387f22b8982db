import { Collector, escapeLabel as label } from '../web/routes/metrics';
import type { Alerting } from './alerting';

/**
 * alertMetrics are the alerts' figures on /metrics: alerts by state, deliveries by
 * outcome, notifications sent, receivers failing, actions run and failed.
 */
export function alertMetrics(a: () => Alerting): Collector {
  return () => {
    const s = a().stats();
    const out = ['# HELP remon_alerts Alerts kept, by state.', '# TYPE remon_alerts gauge'];
    for (const [state, n] of Object.entries(s.states)) out.push(`remon_alerts{state="${state}"} ${n}`);
    out.push('# HELP remon_alert_deliveries_total Deliveries (one channel of one contact for one alert) by outcome.', '# TYPE remon_alert_deliveries_total counter');
    for (const outcome of ['sent', 'failed', 'skipped'] as const) out.push(`remon_alert_deliveries_total{outcome="${outcome}"} ${s.deliveries[outcome]}`);
    out.push('# HELP remon_alert_notifications_total Notifications sent (a group counts once).', '# TYPE remon_alert_notifications_total counter', `remon_alert_notifications_total ${s.deliveries.notifications}`);
    out.push('# HELP remon_alert_receiver_up 1 when a contact\'s channel took its last notification, 0 while it fails.', '# TYPE remon_alert_receiver_up gauge');
    for (const r of a().receivers()) if (r.state !== 'unknown') out.push(`remon_alert_receiver_up{contact="${label(r.contact)}",channel="${r.channel}"} ${r.state === 'ok' ? 1 : 0}`);
    out.push('# HELP remon_alert_actions_total SLA actions run.', '# TYPE remon_alert_actions_total counter', `remon_alert_actions_total ${s.actions}`);
    out.push('# HELP remon_alert_action_failures_total SLA actions that failed.', '# TYPE remon_alert_action_failures_total counter', `remon_alert_action_failures_total ${s.actionFailures}`);
    out.push('# HELP remon_alert_held Firing alerts held by a silence or depends_on.', '# TYPE remon_alert_held gauge', `remon_alert_held ${s.held}`);
    return out;
  };
}
