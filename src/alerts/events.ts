import type { NodeEvent } from '../bus';
import type { Alert } from './types';

/**
 * alertStateEvent is the `alert.state` NodeEvent of an alert that changed state (opened
 * pending or firing, acknowledged, firing again after ack_timeout, resolved): subject is
 * the alert id; data holds id, sla, source, from (absent when it opened), to, severity,
 * labels, value, and by (who acknowledged).
 */
export function alertStateEvent(a: Alert, from: Alert['state'] | undefined, at: number): NodeEvent {
  const who = a.state === 'acknowledged' && a.ackedBy ? ` by ${a.ackedBy}` : '';
  return {
    kind: 'alert.state',
    subject: a.id,
    at,
    message: `alert ${a.id} (${a.sla}) ${a.state}${who}: ${a.message}`,
    data: {
      id: a.id, sla: a.sla, source: a.source, ...(from !== undefined && { from }), to: a.state, severity: a.severity,
      labels: { ...a.labels }, value: a.value, ...(a.state === 'acknowledged' && a.ackedBy !== undefined && { by: a.ackedBy }),
    },
  };
}
