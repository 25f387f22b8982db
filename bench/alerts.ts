/**
 * Alerts benchmark (issue 12).
 *
 * 1. Latency: a node (engine, the alerts plugin with its real webhook channel, the alert
 *    log on disk) holds 10,000 SLAs' alerts' worth of names: 1,000 firing (silenced, so
 *    held) and 9,000 that were pending and went back to ok. SLAs fire one at a time, 200 a
 *    second, as `sla.state` events published on the bus (the SLA tests are another
 *    subsystem; this is the event they publish), each to its own escalation (level 1
 *    after 0s, group_wait 0s: `for: 0`). The time from the publish to the webhook POST
 *    arriving at a receiver in another process (both read the same wall clock,
 *    performance.timeOrigin + now). Target: p99 ≤ 100 ms.
 * 2. Notifications per second to one receiver: a closed loop (N alerts in flight; each
 *    answered POST resolves its alert and fires the next): fire → alert log → escalation
 *    → dispatcher → POST → answer. Reference: bare fetch POSTs of the same body to the same
 *    receiver at the same concurrency (what the HTTP client alone does).
 *
 * Each figure is the median of BENCH_ROUNDS rounds (default 3).
 *   BENCH_ONLY=alerts npm run bench
 */
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Alerting, Sender } from '../src/alerts/alerting';
import { alertsPlugin } from '../src/alerts/plugin';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { Channels } from '../src/notify/channels';
import { Notification, webhookBody } from '../src/notify/payload';
import { registry } from '../src/registry';
import { MemoryStore } from '../src/store/memory';
import { median, quantile, table } from './stats';

const SLAS = 10_000;
const HELD = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EVENTS = Number(process.env.BENCH_ALERT_EVENTS ?? 1000);
const RATE = Number(process.env.BENCH_ALERT_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_ALERT_SECONDS ?? 3);
const CONCURRENCY = (process.env.BENCH_ALERT_CONCURRENCY ?? '1,64').split(',').map(Number);
const ESCALATIONS = 64;

const wallNow = (): number => performance.timeOrigin + performance.now();

/** receiver is the child process: a webhook receiver noting when each firing alert arrived. */
function receiver(): void {
  let arrivals: Array<[string, number]> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = wallNow();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const a of body.alerts ?? [body.alert]) if (a.state === 'firing') arrivals.push([a.sla, at]);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { report?: boolean; stop?: boolean }) => {
    if (m.stop) process.exit(0);
    process.send!({ arrivals });
    arrivals = [];
  });
}

/** Receiver is the child seen from the bench: its URL, and what arrived since the last ask. */
interface Receiver {
  url: string;
  report(): Promise<Array<[string, number]>>;
  stop(): void;
}

async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(__filename, ['receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve as never));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    report: () => new Promise((resolve) => {
      child.once('message', (m: { arrivals: Array<[string, number]> }) => resolve(m.arrivals));
      child.send({ report: true });
    }),
    stop: () => child.send({ stop: true }),
  };
}

/** BenchNode is an engine with the alerts plugin; `sent` hears each notification once its POST was answered. */
interface BenchNode {
  engine: Engine;
  alerting: Alerting;
  fire(sla: string, escalation: number, labels?: Record<string, string>): void;
  ok(sla: string, escalation: number): void;
  pending(sla: string): void;
  onSent?: (n: Notification) => void;
  stop(): Promise<void>;
}

async function startNode(hook: string): Promise<BenchNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-alerts-'));
  const lines = [`node: { data: ${dir}, name: bench, log_level: silent }`, 'storage: { kind: memory }', 'contacts:'];
  for (let i = 0; i < ESCALATIONS; i++) lines.push(`  c${i}: { webhook: "${hook}" }`);
  lines.push('escalations:');
  for (let i = 0; i < ESCALATIONS; i++) lines.push(`  e${i}: { levels: [ { notify: [c${i}] } ], group_wait: 0s, send_resolved: false }`);
  lines.push('silences:', '  - { match: { bench: held }, until: 2099-01-01T00:00:00Z, comment: background }');
  const loaded = loadConfig(path.join(dir, 'bench.yaml'), { ...registry, text: lines.join('\n') });
  const channels = new Channels(silentLogger(), () => undefined);
  // The real webhook channel; the bench hears when each POST was answered.
  const node: Partial<BenchNode> = {};
  const send: Sender = async (channel, contact, n) => {
    await channels.send(channel, contact, n);
    node.onSent?.(n);
  };
  const plugin = alertsPlugin({ send });
  const engine = new Engine({ ...loaded, log: silentLogger(), web: false, plugins: [plugin], store: new MemoryStore() });
  await engine.start();
  const event = (sla: string, to: string, escalation: number, labels: Record<string, string> = {}): void => {
    const at = Date.now();
    engine.bus.publish({
      samples: [],
      event: {
        kind: 'sla.state', subject: sla, at, message: `${sla} ${to}: bench.value (0) >= 1`,
        data: { from: 'ok', to, since: at, notify: true, severity: 'page', labels, escalate: `e${escalation}`, depends_on: [], value: 0 },
      },
    });
  };
  return Object.assign(node, {
    engine,
    alerting: plugin.installed[0],
    fire: (sla: string, e: number, labels?: Record<string, string>) => event(sla, 'firing', e, labels),
    ok: (sla: string, e: number) => event(sla, 'ok', e),
    pending: (sla: string) => event(sla, 'pending', 0),
    async stop() {
      await engine.stop();
      channels.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  }) as BenchNode;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** preload gives the node 10,000 SLAs' alerts: HELD firing under a silence, the rest pending and back to ok. */
async function preload(n: BenchNode): Promise<void> {
  for (let i = 0; i < HELD; i++) n.fire(`held${i}`, i % ESCALATIONS, { bench: 'held' });
  for (let i = HELD; i < SLAS; i++) n.pending(`s${i}`);
  for (let i = HELD; i < SLAS; i++) n.ok(`s${i}`, 0);
  await n.engine.idle();
  await n.alerting.idle();
}

/** latencyRound fires EVENTS SLAs from the ok ones, RATE a second, and gives each one's publish → arrival time. */
async function latencyRound(n: BenchNode, r: Receiver, round: number): Promise<number[]> {
  const published = new Map<string, number>();
  const gap = 1000 / RATE;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const sla = `s${HELD + round * EVENTS + i}`;
    const wait = t0 + i * gap - performance.now();
    if (wait > 0) await sleep(wait);
    published.set(sla, wallNow());
    n.fire(sla, i % ESCALATIONS);
  }
  const arrived = new Map<string, number>();
  for (let tries = 0; arrived.size < EVENTS && tries < 200; tries++) {
    await sleep(50);
    for (const [sla, at] of await r.report()) if (published.has(sla)) arrived.set(sla, at);
  }
  if (arrived.size < EVENTS) throw new Error(`only ${arrived.size} of ${EVENTS} notifications arrived`);
  // Resolved, so the next round starts from the same state.
  let i = 0;
  for (const sla of published.keys()) n.ok(sla, i++ % ESCALATIONS);
  await n.alerting.idle();
  return [...published].map(([sla, t]) => arrived.get(sla)! - t);
}

/** loopRound keeps `inFlight` alerts in flight for SECONDS and counts the notifications answered. */
async function loopRound(n: BenchNode, inFlight: number, round: number): Promise<number> {
  let seq = 0;
  let count = 0;
  let stop = false;
  const next = (e: number): void => n.fire(`t${round}-${inFlight}-${seq++}`, e);
  n.onSent = (note) => {
    for (const a of note.alerts) {
      const e = Number(note.contact.slice(1));
      n.ok(a.sla, e);
      count++;
      if (!stop) next(e);
    }
  };
  const t0 = performance.now();
  for (let e = 0; e < inFlight; e++) next(e % ESCALATIONS);
  await sleep(SECONDS * 1000);
  const perSecond = count / ((performance.now() - t0) / 1000);
  stop = true;
  await sleep(200);
  await n.alerting.idle();
  n.onSent = undefined;
  return perSecond;
}

/** bareRound POSTs the same body with fetch, `inFlight` at a time, for SECONDS. */
async function bareRound(url: string, inFlight: number): Promise<number> {
  const body = JSON.stringify(webhookBody({ contact: 'c0', node: 'bench', alerts: [{
    id: '1', sla: 's1', state: 'resolved', severity: 'page', value: 0, since: new Date().toISOString(), node: 'bench', level: 1,
    message: 's1 firing: bench.value (0) >= 1', source: 'sla', labels: {}, started: new Date().toISOString(), key: '1:1:0:1|c0|webhook',
  }] }));
  let count = 0;
  const end = performance.now() + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'remon' }, body });
      await res.text();
      count++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return count / ((performance.now() - t0) / 1000);
}

export async function benchAlerts(): Promise<string> {
  const r = await startReceiver();
  const n = await startNode(r.url);
  try {
    const t0 = performance.now();
    await preload(n);
    const preloadMs = performance.now() - t0;
    await r.report();
    const rounds: Array<{ p50: number; p99: number; max: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const lat = await latencyRound(n, r, round);
      rounds.push({ p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: Math.max(...lat) });
    }
    const p99 = median(rounds.map((x) => x.p99));
    const loops: Array<[string, number, number]> = [];
    for (const k of CONCURRENCY) {
      const remon: number[] = [];
      const bare: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        remon.push(await loopRound(n, k, round));
        await r.report();
        bare.push(await bareRound(r.url, k));
        await r.report();
      }
      loops.push(['remon (fire → log → escalation → POST → resolve)', k, median(remon)], ['bare fetch POST of the same body', k, median(bare)]);
    }
    const s = n.alerting.stats();
    return [
      table(
        `Alerts: sla.state firing event on the bus → webhook POST at a receiver in another process; ${SLAS.toLocaleString('en')} SLAs loaded (${HELD.toLocaleString('en')} firing under a silence), ${RATE} events/s, group_wait 0s; median of ${ROUNDS} rounds of ${EVENTS}`,
        ['events', 'p50 ms', 'p99 ms', 'max ms', 'preload ms'],
        [[EVENTS, median(rounds.map((x) => x.p50)), p99, median(rounds.map((x) => x.max)), preloadMs]],
      ),
      '',
      `target: p99 ≤ 100 ms: ${p99 <= 100 ? 'met' : 'MISSED'}`,
      table(
        `Notifications per second to one receiver: closed loop, ${SECONDS} s per round, median of ${ROUNDS} rounds; ${os.cpus().length} cores`,
        ['side', 'in flight', 'notifications / s'],
        loops,
      ),
      '',
      `alert log: ${s.log?.records ?? 0} records; deliveries sent ${s.deliveries.sent}, failed ${s.deliveries.failed}`,
    ].join('\n');
  } finally {
    await n.stop();
    r.stop();
  }
}

if (require.main === module) {
  if (process.argv[2] === 'receiver') receiver();
  else benchAlerts().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
