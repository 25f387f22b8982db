/**
 * RPC benchmark (issue 14): calls per second of a cheap method (`node.health`) over POST
 * /rpc (RpcClient) and over the WebSocket /rpc (RpcSession, calls pipelined), against a
 * bare express JSON echo route (`express.json()` and `res.json(req.body)`) mounted on the
 * same server of the same node, behind the same guard; and, for scale, the same echo in
 * bare node:http (no express). The load runs in another process
 * (bench/rpc-load.ts) with BENCH_RPC_CONCURRENCY calls at once; rounds alternate
 * echo → bare → http → ws, BENCH_RPC_ROUNDS times, each BENCH_RPC_SECONDS long; figures are the
 * medians. Target: each RPC transport ≥ 0.7× the echo route.
 *
 *   BENCH_ONLY=rpc npm run bench
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import express from 'express';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import type { NodePlugin } from '../src/engine/plugin';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { rpcPlugin } from '../src/rpc/plugin';
import { freePort } from './node';
import { median, table } from './stats';

const SECONDS = Number(process.env.BENCH_RPC_SECONDS ?? 1.5);
const ROUNDS = Number(process.env.BENCH_RPC_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_RPC_CONCURRENCY ?? 16);
const TOKEN = 'bench-token';
const MODES = ['echo', 'bare', 'http', 'ws'] as const;

/** echoPlugin mounts POST /echo: a bare express app that answers the JSON body it got. */
function echoPlugin(): NodePlugin {
  const app = express();
  app.post('/echo', express.json(), (req, res) => { res.json(req.body); });
  return {
    name: 'echo',
    install(host) {
      host.routes.push({
        name: 'echo',
        raw: () => (req, res) => {
          if (req.url === '/bare') {
            // For scale: the same echo without express (node:http, JSON.parse, JSON.stringify).
            const chunks: Buffer[] = [];
            req.on('data', (c: Buffer) => chunks.push(c));
            req.on('end', () => {
              const text = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
              res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
              res.end(text);
            });
            return true;
          }
          if (req.url !== '/echo') return false;
          app(req, res);
          return true;
        },
      });
    },
  };
}

function load(url: string, mode: string): Promise<number> {
  const child = spawn(process.execPath, [path.join(__dirname, 'rpc-load.js'), url, mode, String(SECONDS), String(CONCURRENCY), TOKEN], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`rpc-load ${mode} exited ${code}`)))));
}

/** benchRpc runs the rounds and prints calls/s and the ratios to the echo route. */
export async function benchRpc(): Promise<string> {
  const port = await freePort();
  const text = `node: { name: bench, data: ${fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-rpc-'))}, listen: "127.0.0.1:${port}", token: ${TOKEN} }\nstorage: { kind: memory }\nblocks: []\n`;
  const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text }), log: silentLogger(), plugins: [rpcPlugin(), echoPlugin()] });
  await e.start();
  const figures: Record<string, number[]> = { echo: [], bare: [], http: [], ws: [] };
  try {
    for (let r = 0; r < ROUNDS; r++) for (const m of MODES) figures[m].push(await load(e.url!, m));
  } finally {
    await e.stop();
  }
  const echo = median(figures.echo);
  const rows = MODES.map((m) => {
    const v = median(figures[m]);
    const label = { echo: 'express JSON echo, POST /echo', bare: 'bare node:http JSON echo, POST /bare (for scale)', http: 'node.health, POST /rpc (RpcClient)', ws: `node.health, WebSocket /rpc (RpcSession, ${CONCURRENCY} pipelined)` }[m];
    const target = m === 'http' || m === 'ws';
    return [label, v, (v / echo).toFixed(2), target ? (v / echo >= 0.7 ? 'yes' : 'NO') : ''];
  });
  return table(`RPC calls/s, ${CONCURRENCY} at once, median of ${ROUNDS} alternating rounds of ${SECONDS}s (target ≥ 0.7× echo)`, ['transport', 'calls/s', '× echo', '≥ 0.7'], rows);
}
