/**
 * Trap benchmark (issue 15: passive traps). SNMP v2c traps per second a trap block takes
 * (received by its hub's net-snmp receiver, decoded, matched, turned into a result), beside
 * a bare UDP socket that only counts the same datagrams: the most any receiver in Node
 * could read. A worker thread sends a trap snmptrap made (captured once: the bytes of
 * `snmptrap -v 2c -c public HOST '' 1.3.6.1.4.1.8072.9.9 1.3.6.1.4.1.8072.9.9.1 i 42`) as
 * fast as it can, faster than either side reads: the figures are what each reads when
 * saturated, and the loss is what the socket buffer dropped. Each figure is the median of
 * 3 trials.
 *
 *   node dist/bench/trap.js
 *   BENCH_TRAP_SECONDS=5 node dist/bench/trap.js
 */
import * as dgram from 'node:dgram';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { TrapHub } from '../blocks/trap/hub';
import { realClock } from '../src/clock';
import { silentLogger } from '../src/log';
import { median, table } from './stats';

const SECONDS = Number(process.env.BENCH_TRAP_SECONDS ?? 3);
const TRIALS = 3;
/** A v2c trap with one Integer32 varbind, as snmptrap sends it (community public). */
const TRAP = Buffer.from(
  '305602010104067075626c6963a74902046f4b7777020100020100303b300f06082b06010201010300430301a537' +
  '3017060a2b06010603010104010006092b06010401bf080909300f060a2b06010401bf0809090102012a', 'hex');

const SENDER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
const buf = Buffer.from(workerData.hex, 'hex');
const end = Date.now() + workerData.ms;
let sent = 0;
function burst() {
  if (Date.now() >= end) { s.close(); parentPort.postMessage(sent); return; }
  let left = 64;
  const one = () => s.send(buf, workerData.port, '127.0.0.1', () => { sent++; if (--left > 0) one(); else setImmediate(burst); });
  one();
}
burst();
`;

/** send runs the sender for SECONDS against a port; it resolves to the datagrams sent. */
function send(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(SENDER, { eval: true, workerData: { hex: TRAP.toString('hex'), port, ms: SECONDS * 1000 } });
    w.once('message', (n: number) => resolve(n));
    w.once('error', reject);
  });
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** bare counts datagrams on a plain socket. */
async function bare(): Promise<{ rate: number; loss: number }> {
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', () => n++);
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const t0 = performance.now();
  const sent = await send(s.address().port);
  await new Promise((r) => setTimeout(r, 100));
  const secs = (performance.now() - t0 - 100) / 1000;
  s.close();
  return { rate: n / secs, loss: 1 - n / sent };
}

/** block counts the results a trap block emits for the traps its hub's receiver takes. */
async function block(): Promise<{ rate: number; loss: number; cpu: number }> {
  const port = await freeUdpPort();
  const hub = new TrapHub({ config: { node: {} } as never, clock: realClock, log: silentLogger(), hasBlock: () => false, addBlock: () => undefined });
  let n = 0;
  hub.attach('bench', { listen: `127.0.0.1:${port}`, fields: { v: '1.3.6.1.4.1.8072.9.9.1' } }, (out) => {
    if (out.fields?.v === 42) n++;
  });
  await hub.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = await send(port);
  await new Promise((r) => setTimeout(r, 100));
  const secs = (performance.now() - t0 - 100) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await hub.stop();
  if (n === 0) throw new Error('the trap block took no trap');
  return { rate: n / secs, loss: 1 - n / sent, cpu: ((cpu.user + cpu.system) / 1000 / n) * 1000 };
}

export async function benchTrap(): Promise<string> {
  const bares: number[] = [];
  const bareLoss: number[] = [];
  const blocks: number[] = [];
  const losses: number[] = [];
  const cpus: number[] = [];
  await block(); // warm-up
  for (let t = 0; t < TRIALS; t++) {
    const b0 = await bare();
    bares.push(b0.rate);
    bareLoss.push(b0.loss);
    const b = await block();
    blocks.push(b.rate);
    losses.push(b.loss);
    cpus.push(b.cpu);
  }
  const s = median(bares);
  const r = median(blocks);
  return [
    table(
      `SNMP v2c traps per second on loopback (median of ${TRIALS} × ${SECONDS} s; ${os.cpus().length} CPUs)`,
      ['receiver', 'bare UDP socket /s', 'bare loss', 'trap block /s', 'block / bare', 'block loss', 'block CPU ms / 1000'],
      [['one trap block, one varbind field', s, `${(median(bareLoss) * 100).toFixed(1)}%`, r, r / s, `${(median(losses) * 100).toFixed(1)}%`, median(cpus)]],
    ),
    '',
    'The bare socket only counts datagrams; the trap block decodes each (net-snmp), matches it and makes its result.',
  ].join('\n');
}

if (require.main === module) {
  benchTrap().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
