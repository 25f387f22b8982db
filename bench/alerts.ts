/**
 * Alerts benchmark (issue 12).
 *
 * A node as `remon run` makes it (engine, memory store, the derive, SLA and alerts plugins,
 * the real webhook channel, the SLA log and the alert log on disk) with 10,000 blocks of
 * one field each (every 1h) and 10,000 SLA tests over them (`b<k>.value < 100`, for: 0),
 * each escalating to one of 64 escalations (level 1 after 0s, group_wait 0s,
 * send_resolved false) whose contact POSTs to a webhook receiver in another process. The
 * blocks' first runs bring 9,000 SLAs to ok and 1,000 to firing under a silence (held).
 *
 * 1. Latency: a block's failing result published on the bus as the engine publishes a
 *    run's (the Result and its samples), RATE a second, each for another SLA: the store
 *    and the SLA test take it, the SLA fires (SLA log, `sla.state` event), its alert fires
 *    (alert log), the escalation sends, the POST arrives. The time from the publish to the
 *    arrival at the receiver (both read the same wall clock, performance.timeOrigin +
 *    now). When its POST is answered the block's next result passes, which resolves it.
 *    Target: p99 ≤ 100 ms. Beside it, rounds alternating, the alerts alone: `sla.state`
 *    events published on the bus (synthetic, for names that are no SLA), so the share of
 *    the SLA part shows.
 * 2. Notifications per second to one receiver: a closed loop (N alerts in flight; each
 *    answered POST resolves its alert and fires the next), by results (the whole chain)
 *    and by synthetic events; beside bare fetch POSTs of the same body to the same
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
import { createDerivePlugin } from '../src/derive';
import type { BlockType } from '../src/engine/block';
import { Engine } from '../src/engine/engine';
import { Result, resultSeries, sampleHeartbeat } from '../src/engine/result';
import { silentLogger } from '../src/log';
import { Channels } from '../src/notify/channels';
import { webhookBody } from '../src/notify/payload';
import { registry } from '../src/registry';
import { createSlaPlugin, SlaRunner } from '../src/sla';
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
/** The blocks run every hour: their first runs settle the SLAs, the next come after the bench. */
const EVERY_MS = 3_600_000;
const PASS = 50;
const FAIL = 500;

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

/** valueBlock is the blocks' type: each run reports its configured value as the field `value`. */
const valueBlock: BlockType<{ value: number }> = {
  type: 'bench-value',
  description: 'bench: reports its configured value',
  schema: { properties: { value: { type: 'number' } }, required: ['value'] },
  fields: () => ['value'],
  create: (o) => ({ run: async () => ({ ok: true, fields: { value: o.value } }) }),
};

/** BenchNode is the node seen from the bench; `onSent` hears each firing alert once its POST was answered. */
interface BenchNode {
  engine: Engine;
  alerting: Alerting;
  slas: SlaRunner;
  /** From the engine's start to every SLA settled after the blocks' first runs. */
  startMs: number;
  /** result publishes block b<k>'s result with `value`, as the engine does after a run. */
  result(k: number, value: number): void;
  /** event publishes an `sla.state` event for x<k>, as an SLA does (the alerts alone). */
  event(k: number, to: 'firing' | 'ok'): void;
  onSent?: (sla: string) => void;
  stop(): Promise<void>;
}

const escalationOf = (k: number): string => `e${k % ESCALATIONS}`;

/** configText is the node's monitor.yaml: blocks b<k>, SLAs s<k> (the first HELD failing, labelled held), contacts, escalations, the silence. */
function configText(dir: string, hook: string): string {
  const lines = [`node: { data: ${dir}, name: bench, log_level: silent }`, 'storage: { kind: memory }', 'blocks:'];
  for (let k = 0; k < SLAS; k++) lines.push(`  - { name: b${k}, type: bench-value, every: 1h, value: ${k < HELD ? FAIL : PASS} }`);
  lines.push('slas:');
  for (let k = 0; k < SLAS; k++) lines.push(`  - { name: s${k}, test: "b${k}.value < 100", escalate: ${escalationOf(k)}${k < HELD ? ', labels: { bench: held }' : ''} }`);
  lines.push('contacts:');
  for (let i = 0; i < ESCALATIONS; i++) lines.push(`  c${i}: { webhook: "${hook}" }`);
  lines.push('escalations:');
  for (let i = 0; i < ESCALATIONS; i++) lines.push(`  e${i}: { levels: [ { notify: [c${i}], after: 0s } ], group_wait: 0s, send_resolved: false }`);
  lines.push('silences:', '  - { match: { bench: held }, until: 2099-01-01T00:00:00Z, comment: background }');
  return lines.join('\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startNode(hook: string): Promise<BenchNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-alerts-'));
  const loaded = loadConfig(path.join(dir, 'bench.yaml'), { ...registry, types: [...registry.types, valueBlock], text: configText(dir, hook) });
  const channels = new Channels(silentLogger(), () => undefined);
  // The real webhook channel; the bench hears when each POST was answered.
  const node: Partial<BenchNode> = {};
  const send: Sender = async (channel, contact, n) => {
    await channels.send(channel, contact, n);
    for (const a of n.alerts) if (a.state === 'firing') node.onSent?.(a.sla);
  };
  const alerts = alertsPlugin({ send });
  const sla = createSlaPlugin();
  const engine = new Engine({ ...loaded, log: silentLogger(), web: false, plugins: [createDerivePlugin(), sla, alerts], store: new MemoryStore() });
  const t0 = performance.now();
  await engine.start();
  const runner = sla.runner!;
  await runner.ready();
  // The blocks' first runs (within 5 s of the start) bring each SLA to ok or, held, to firing.
  const settled = (): number => runner.set.list().filter((s) => s.state === (Number(s.name.slice(1)) < HELD ? 'firing' : 'ok')).length;
  for (let tries = 0; settled() < SLAS; tries++) {
    if (tries > 240) throw new Error(`${SLAS - settled()} SLAs not settled after the blocks' first runs`);
    await sleep(250);
  }
  const alerting = alerts.installed[0];
  await engine.idle();
  await alerting.idle();
  const startMs = performance.now() - t0;
  const heartbeat = sampleHeartbeat('interval', EVERY_MS);
  // Each block's results go forward in time, as a block's runs do.
  const lastT = new Float64Array(SLAS);
  return Object.assign(node, {
    engine,
    alerting,
    slas: runner,
    startMs,
    result(k: number, value: number) {
      const t = (lastT[k] = Math.max(Date.now(), lastT[k] + 1));
      const r: Result = { block: `b${k}`, type: valueBlock.type, ok: true, fields: { value }, message: '', startedAt: t, durationMs: 0.1, lagMs: 0, trigger: 'schedule' };
      engine.bus.publish({ result: r, samples: resultSeries(r, heartbeat) });
    },
    event(k: number, to: 'firing' | 'ok') {
      const at = Date.now();
      const sla = `x${k}`;
      engine.bus.publish({
        samples: [],
        event: {
          kind: 'sla.state', subject: sla, at, message: `${sla} ${to}: b${k}.value (${to === 'ok' ? PASS : FAIL}) < 100`,
          data: { from: to === 'ok' ? 'firing' : 'ok', to, since: at, notify: true, severity: 'page', labels: {}, escalate: escalationOf(k), depends_on: [], value: false },
        },
      });
    },
    async stop() {
      await engine.stop();
      channels.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  }) as BenchNode;
}

/** Driver fires and resolves alert k: by a block's results (the chain, SLA s<k>) or by sla.state events (the alerts alone, x<k>). */
interface Driver {
  label: string;
  prefix: string;
  fire(k: number): void;
  resolve(k: number): void;
}

function drivers(n: BenchNode): Driver[] {
  return [
    { label: 'failing result on the bus → SLA test → alert → POST', prefix: 's', fire: (k) => n.result(k, FAIL), resolve: (k) => n.result(k, PASS) },
    { label: 'sla.state event on the bus → alert → POST (synthetic: the alerts alone)', prefix: 'x', fire: (k) => n.event(k, 'firing'), resolve: (k) => n.event(k, 'ok') },
  ];
}

/** settle waits for the sends in flight and checks that only the held alerts still fire. */
async function settle(n: BenchNode): Promise<void> {
  await n.alerting.idle();
  const firing = n.alerting.stats().states.firing;
  if (firing !== HELD) throw new Error(`${firing} alerts firing after a round, expected the ${HELD} held`);
}

/** latencyRound fires alert k for each of ks, RATE a second, each resolved once its POST is answered; each one's publish → arrival time. */
async function latencyRound(n: BenchNode, r: Receiver, d: Driver, ks: number[]): Promise<number[]> {
  const published = new Map<string, number>();
  n.onSent = (sla) => { if (sla.startsWith(d.prefix)) d.resolve(Number(sla.slice(1))); };
  const gap = 1000 / RATE;
  const t0 = performance.now();
  for (let i = 0; i < ks.length; i++) {
    const wait = t0 + i * gap - performance.now();
    if (wait > 0) await sleep(wait);
    published.set(`${d.prefix}${ks[i]}`, wallNow());
    d.fire(ks[i]);
  }
  const arrived = new Map<string, number>();
  for (let tries = 0; arrived.size < ks.length && tries < 200; tries++) {
    await sleep(50);
    for (const [sla, at] of await r.report()) if (published.has(sla)) arrived.set(sla, at);
  }
  if (arrived.size < ks.length) throw new Error(`${d.label}: only ${arrived.size} of ${ks.length} notifications arrived`);
  await settle(n);
  n.onSent = undefined;
  return [...published].map(([sla, t]) => arrived.get(sla)! - t);
}

/** Rate is a loop's notifications per second, and this process's CPU time per notification (µs). */
interface Rate {
  perSecond: number;
  cpuUs: number;
}

/** loopRound keeps `inFlight` alerts in flight for SECONDS and counts the notifications answered; slot j takes SLAs HELD + j + inFlight·m in turn. */
async function loopRound(n: BenchNode, d: Driver, inFlight: number): Promise<Rate> {
  const m = new Array<number>(inFlight).fill(0);
  let count = 0;
  let stop = false;
  const next = (j: number): void => {
    let k = HELD + j + inFlight * m[j]++;
    if (k >= SLAS) {
      k = HELD + j;
      m[j] = 1;
    }
    d.fire(k);
  };
  n.onSent = (sla) => {
    if (!sla.startsWith(d.prefix)) return;
    const k = Number(sla.slice(1));
    d.resolve(k);
    count++;
    if (!stop) next((k - HELD) % inFlight);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let j = 0; j < inFlight; j++) next(j);
  await sleep(SECONDS * 1000);
  const perSecond = count / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / count;
  stop = true;
  await sleep(200);
  await settle(n);
  n.onSent = undefined;
  return { perSecond, cpuUs };
}

/** bareRound POSTs the same body with fetch, `inFlight` at a time, for SECONDS. */
async function bareRound(url: string, inFlight: number): Promise<Rate> {
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
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: count / ((performance.now() - t0) / 1000), cpuUs: (cpu.user + cpu.system) / count };
}

export async function benchAlerts(): Promise<string> {
  const r = await startReceiver();
  const n = await startNode(r.url);
  try {
    await r.report();
    const ds = drivers(n);
    // Untimed: the code optimized, the connections to the receiver open.
    for (const d of ds) await latencyRound(n, r, d, Array.from({ length: 200 }, (_, i) => SLAS - 200 + i));
    const lat = ds.map(() => [] as Array<{ p50: number; p99: number; max: number }>);
    for (let round = 0; round < ROUNDS; round++) {
      const ks = Array.from({ length: EVENTS }, (_, i) => HELD + ((round * EVENTS + i) % (SLAS - HELD)));
      for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
        const l = await latencyRound(n, r, ds[i], ks);
        lat[i].push({ p50: quantile(l, 0.5), p99: quantile(l, 0.99), max: Math.max(...l) });
      }
    }
    const fig = lat.map((rounds) => ({ p50: median(rounds.map((x) => x.p50)), p99: median(rounds.map((x) => x.p99)), max: median(rounds.map((x) => x.max)) }));
    const loops: Array<[string, number, number, number]> = [];
    const row = (label: string, k: number, rates: Rate[]): [string, number, number, number] => [label, k, median(rates.map((x) => x.perSecond)), median(rates.map((x) => x.cpuUs))];
    for (const k of CONCURRENCY) {
      const rates: Rate[][] = [[], [], []];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, d] of ds.entries()) {
          rates[i].push(await loopRound(n, d, k));
          await r.report();
        }
        rates[2].push(await bareRound(r.url, k));
        await r.report();
      }
      loops.push(
        row('remon: failing result → SLA → alert log → escalation → POST → passing result', k, rates[0]),
        row('remon: sla.state event → alert log → escalation → POST → ok event (synthetic)', k, rates[1]),
        row('bare fetch POST of the same body', k, rates[2]),
      );
    }
    const s = n.alerting.stats();
    const sla = n.slas.set.stats();
    const ms = (x: number): string => x.toFixed(1);
    return [
      table(
        `Alerts latency: failing sample → webhook POST at a receiver in another process; ${SLAS.toLocaleString('en')} SLA tests over ${SLAS.toLocaleString('en')} series loaded (${HELD.toLocaleString('en')} firing under a silence), for: 0, group_wait 0s, ${RATE} firings/s, each resolved once its POST is answered; median of ${ROUNDS} rounds of ${EVENTS}`,
        ['path', 'p50 ms', 'p99 ms', 'max ms'],
        ds.map((d, i) => [d.label, fig[i].p50, fig[i].p99, fig[i].max]),
      ),
      '',
      `the SLA part (chain − alerts alone; within noise it can come out negative): p50 ${ms(fig[0].p50 - fig[1].p50)} ms, p99 ${ms(fig[0].p99 - fig[1].p99)} ms`,
      `target: p99 ≤ 100 ms (the chain): ${fig[0].p99 <= 100 ? 'met' : 'MISSED'}`,
      `node start to every SLA settled (the ${SLAS.toLocaleString('en')} blocks' first runs are spread over 5 s): ${Math.round(n.startMs)} ms`,
      table(
        `Notifications per second to one receiver: closed loop, ${SECONDS} s per round, median of ${ROUNDS} rounds; CPU of the node's process (not the receiver's) per notification; ${os.cpus().length} cores`,
        ['side', 'in flight', 'notifications / s', 'CPU µs / notification'],
        loops,
      ),
      '',
      `alert log: ${s.log?.records ?? 0} records; deliveries sent ${s.deliveries.sent}, failed ${s.deliveries.failed}; SLA evaluations ${sla.evaluations}, transitions ${sla.transitions}, errors ${sla.errors}`,
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
