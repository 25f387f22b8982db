/**
 * The WebSocket clients of the live benchmark, in their own process (as browsers are):
 * `node live-clients.js URL CLIENTS BLOCKS`. Half subscribe to every block's results (the
 * dashboard), half to the series of 5 blocks (a block page). Each event's latency is its
 * arrival time minus its sample time. Prints `ready` once subscribed; on a line `report` on
 * stdin prints the latencies as JSON and exits.
 */
import WebSocket from 'ws';

const [url, clientsArg, blocksArg] = process.argv.slice(2);
const CLIENTS = Number(clientsArg);
const BLOCKS = Number(blocksArg);
const latencies: { blocks: number[]; series: number[] } = { blocks: [], series: [] };
let dropped = 0;
const sockets: WebSocket[] = [];

function open(i: number): Promise<void> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/rpc`);
  sockets.push(ws);
  const dashboard = i % 2 === 0;
  const params = dashboard
    ? { topic: 'blocks' }
    : { topic: 'series', names: Array.from({ length: 5 }, (_x, k) => `b${(i * 7 + k) % BLOCKS}`).flatMap((b) => [`${b}.up`, `${b}.duration_ms`, `${b}.value`]) };
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'live.subscribe', params })));
    ws.on('message', (data) => {
      const now = Date.now();
      const m = JSON.parse(String(data));
      if (m.id === 1) return resolve();
      if (m.method !== 'live') return;
      const into = dashboard ? latencies.blocks : latencies.series;
      for (const ev of m.params.events) {
        if (ev.dropped !== undefined) dropped += ev.dropped;
        else into.push(now - ev.t);
      }
    });
  });
}

async function main(): Promise<void> {
  await Promise.all(Array.from({ length: CLIENTS }, (_x, i) => open(i)));
  process.stdout.write('ready\n');
  process.stdin.on('data', (d) => {
    if (!String(d).includes('report')) return;
    process.stdout.write(`${JSON.stringify({ ...latencies, dropped })}\n`, () => {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    });
  });
}

main().catch((err) => {
  process.stderr.write(`${err}\n`);
  process.exit(1);
});
