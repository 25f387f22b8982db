import type { SlaActions } from '../src/alerts/actions';
import type { Alerting, Sender } from '../src/alerts/alerting';
import { alertsPlugin } from '../src/alerts/plugin';
import type { SourceState } from '../src/alerts/types';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import type { Notification } from '../src/notify/payload';
import { registry } from '../src/registry';
import { MemoryStore } from '../src/store/memory';
import { FakeClock } from './fake-clock';
import { tmpDir } from './helpers';

export const MIN = 60_000;

/**
 * ALICE_THEN_BOB is monitor.yaml text for the escalation tests: contacts alice and bob
 * (told by log: the harness records instead), and escalation web (alice at once, bob 10
 * minutes later unless acknowledged; no grouping). Add escalations after it, indented
 * by two spaces.
 */
export const ALICE_THEN_BOB = `
contacts:
  alice: { log: true }
  bob: { log: true }
escalations:
  web:
    levels:
      - { notify: [alice], after: 0s }
      - { notify: [bob], after: 10m }
    group_wait: 0s
`;

/** Told is one notification a contact's channel sent, when, on the fake clock. */
export interface Told {
  at: number;
  contact: string;
  channel: string;
  n: Notification;
}

/** SlaEventData is what a test gives of an `sla.state` event's data (notes/sla-event.md). */
export interface SlaEventData {
  from?: SourceState;
  notify?: boolean;
  severity?: string;
  labels?: Record<string, string>;
  escalate?: string;
  depends_on?: string[];
  value?: number | boolean | null;
  message?: string;
}

/** AlertsNode is a node (engine, alerts plugin, no web) on a fake clock, with what it told. */
export interface AlertsNode {
  engine: Engine;
  alerting: Alerting;
  clock: FakeClock;
  dir: string;
  told: Told[];
  /** sla publishes an `sla.state` event on the node's bus, as SLA tests do. */
  sla(name: string, to: SourceState, data?: SlaEventData): void;
  advance(ms: number): Promise<void>;
  advanceTo(at: string | number): Promise<void>;
  op(name: string, params?: Record<string, unknown>): Promise<any>;
  /** reload applies other monitor.yaml text (node and storage stay), as POST /api/reload does. */
  reload(yaml: string): Promise<void>;
  /** tells lists "contact@MM:SS level N: sla1,sla2 state" lines, minutes from `t0`. */
  tells(t0: number): string[];
  stop(): Promise<void>;
}

/** StartOptions: see startAlertsNode. */
export type StartOptions = Parameters<typeof startAlertsNode>[1];

/**
 * nodesPerTest is how a suite starts its nodes: each node started with the function it
 * returns is stopped after its test (stopping twice is harmless).
 */
export function nodesPerTest(): (yaml: string, o: StartOptions) => Promise<AlertsNode> {
  const started: AlertsNode[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.stop()));
  });
  return async (yaml, o) => {
    const n = await startAlertsNode(yaml, o);
    started.push(n);
    return n;
  };
}

/**
 * startAlertsNode runs a node made of monitor.yaml text (node.data and storage are added)
 * with the alerts plugin on a fake clock. Notifications are recorded instead of sent
 * (send), or go out for real when `send` is 'real'.
 */
export async function startAlertsNode(yaml: string, o: { clock: FakeClock; dir?: string; send?: Sender | 'real'; actions?: SlaActions; web?: string; token?: string }): Promise<AlertsNode> {
  const dir = o.dir ?? tmpDir('remon-alerts-');
  const head = `node: { data: ${dir}, name: testnode${o.web ? `, listen: "${o.web}"` : ''}${o.token ? `, token: ${o.token}` : ''} }\nstorage: { kind: memory }\n`;
  let text = `${head}${yaml}`;
  const loaded = loadConfig('monitor.yaml', { ...registry, text });
  const told: Told[] = [];
  const record: Sender = async (channel, contact, n) => {
    told.push({ at: o.clock.now(), contact: contact.name, channel, n });
  };
  const plugin = alertsPlugin({ send: o.send === 'real' ? undefined : o.send ?? record, actions: o.actions });
  const engine = new Engine({
    ...loaded, log: silentLogger(), clock: o.clock, web: o.web !== undefined, plugins: [plugin], store: new MemoryStore(),
    loadConfig: async () => loadConfig('monitor.yaml', { ...registry, text }),
  });
  await engine.start();
  const alerting = plugin.installed[0];
  // Heartbeat findings are journaled (fdatasync) before they count: wait for them too.
  const hub = engine.hub('heartbeat') as { idle?: () => Promise<void> } | undefined;
  const settle = async (): Promise<void> => {
    await hub?.idle?.();
    await engine.idle();
    await alerting.idle();
  };
  return {
    engine, alerting, clock: o.clock, dir, told,
    sla(name, to, data = {}) {
      const { message, ...rest } = data;
      engine.bus.publish({
        samples: [],
        event: {
          kind: 'sla.state', subject: name, at: o.clock.now(), message: message ?? `${name} ${to}`,
          data: { from: 'ok', to, since: o.clock.now(), notify: true, severity: 'page', labels: {}, depends_on: [], ...rest },
        },
      });
    },
    advance: (ms) => o.clock.advance(ms, settle),
    advanceTo: (at) => o.clock.advanceTo(at, settle),
    async op(name, params = {}) {
      return (await engine.ops.invoke(name, params, { authorized: true, via: 'internal' })).value;
    },
    tells(t0) {
      const mmss = (ms: number): string => `${String(Math.floor(ms / MIN)).padStart(2, '0')}:${String(Math.floor((ms % MIN) / 1000)).padStart(2, '0')}`;
      return told.map((x) => `${x.contact}@${mmss(x.at - t0)} L${x.n.alerts[0].level}: ${x.n.alerts.map((a) => a.sla).join(',')} ${x.n.alerts[0].state}`);
    },
    async reload(next) {
      text = `${head}${next}`;
      await engine.reload();
    },
    stop: () => engine.stop(),
  };
}
