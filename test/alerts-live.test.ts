import { strict as assert } from 'node:assert';
import type { NodeEvent } from '../src/bus';
import { alertsPlugin } from '../src/alerts/plugin';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { rpcPlugin } from '../src/rpc/plugin';
import { MIN, startAlertsNode } from './alerts-harness';
import { FakeClock } from './fake-clock';
import { freePort, tmpDir, waitFor } from './helpers';
import { RpcClient } from './rpc-client';

const CONFIG = `
contacts:
  alice: { log: true }
escalations:
  default: { levels: [ { notify: [alice] } ], group_wait: 0s, ack_timeout: 5m }
`;

/** Alerts publish `alert.state` on the bus each time an alert changes state, so pages see it live. */
describe('alerts: alert.state events on the bus', function () {
  this.timeout(20_000);

  it('opened pending, firing, acknowledged (by whom), firing again after ack_timeout, resolved: one event each, in order', async () => {
    const node = await startAlertsNode(CONFIG, { clock: new FakeClock(Date.UTC(2026, 0, 5, 10)), send: async () => undefined });
    try {
      const seen: NodeEvent[] = [];
      node.engine.bus.subscribe('test', (m) => { if (m.event?.kind === 'alert.state') seen.push(m.event); });
      node.sla('db', 'pending', { message: 'db.up (0) == 1 failed', value: 0, labels: { team: 'data' } });
      await node.advance(1000);
      node.sla('db', 'firing', { from: 'pending', message: 'db.up (0) == 1 failed for 1m', value: 0, labels: { team: 'data' } });
      await node.advance(1000);
      await node.op('alerts.ack', { id: '1', by: 'carol' });
      await node.advance(5 * MIN);
      node.sla('db', 'ok', { from: 'firing', message: 'db.up (1) == 1 passes again', value: 1, labels: { team: 'data' } });
      await node.advance(1000);
      assert.deepEqual(seen.map((e) => [e.subject, e.data?.from ?? '-', e.data?.to, e.data?.by ?? '-']), [
        ['1', '-', 'pending', '-'],
        ['1', 'pending', 'firing', '-'],
        ['1', 'firing', 'acknowledged', 'carol'],
        ['1', 'acknowledged', 'firing', '-'],
        ['1', 'firing', 'resolved', '-'],
      ]);
      assert.equal(seen[2].message, 'alert 1 (db) acknowledged by carol: db.up (0) == 1 failed for 1m');
      assert.equal(seen[4].message, 'alert 1 (db) resolved: db.up (1) == 1 passes again');
      assert.deepEqual(seen[1].data, { id: '1', sla: 'db', source: 'sla', from: 'pending', to: 'firing', severity: 'page', labels: { team: 'data' }, value: 0 });
      // Events come after the SLA event that caused them, never before.
      const order: string[] = [];
      node.engine.bus.subscribe('order', (m) => { if (m.event) order.push(m.event.kind); });
      node.sla('api', 'firing', { message: 'api down' });
      await node.advance(1000);
      assert.deepEqual(order, ['sla.state', 'alert.state']);
    } finally {
      await node.stop();
    }
  });

  it('reach a WebSocket client subscribed to the events topic: a heartbeat that failed fires its alert', async () => {
    const port = await freePort();
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: memory }\n` +
      `blocks:\n  - { name: backup, type: heartbeat, period: 1d }\n${CONFIG}`;
    const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text }), log: silentLogger(), plugins: [alertsPlugin({ send: async () => undefined }), rpcPlugin()] });
    await e.start();
    try {
      const c = await RpcClient.open(e.url!);
      const { subscription } = await c.result('live.subscribe', { topic: 'events', kinds: ['alert.state'] });
      assert.equal((await fetch(`${e.url}/hb/backup/fail`, { method: 'POST' })).status, 200);
      await waitFor(() => c.events(subscription).length >= 1, 5000, 'the alert.state event');
      const ev = c.events(subscription)[0] as { kind: string; subject: string; data: Record<string, unknown> };
      assert.equal(ev.kind, 'alert.state');
      assert.deepEqual([ev.data.sla, ev.data.source, ev.data.to], ['backup', 'heartbeat', 'firing']);
      const ack = await c.call('alerts.ack', { id: ev.subject, by: 'ws' });
      assert.equal(ack.result.state, 'acknowledged');
      await waitFor(() => c.events(subscription).length >= 2, 5000, 'the acknowledgement');
      assert.equal((c.events(subscription)[1] as { data: { to: string } }).data.to, 'acknowledged');
      c.close();
    } finally {
      await e.stop();
    }
  });
});
