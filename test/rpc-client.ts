/**
 * Helpers for JSON-RPC tests: a node with the rpc plugin on loopback, POST /rpc, and a
 * WebSocket client (the real `ws` library) that pairs answers with requests and collects
 * `live` notifications by subscription.
 */
import WebSocket from 'ws';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import type { NodePlugin } from '../src/engine/plugin';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { rpcPlugin, RpcPluginOptions } from '../src/rpc/plugin';
import { freePort, tmpDir, waitFor } from './helpers';
import { probeBlock } from './probe-block';

/** rpcNode starts a node with an on-demand probe block `d` (value 7) and the rpc plugin. */
export async function rpcNode(o: { token?: string; rpc?: RpcPluginOptions; plugin?: ReturnType<typeof rpcPlugin>; plugins?: readonly NodePlugin[]; blocks?: string } = {}): Promise<Engine> {
  const port = await freePort();
  const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}"${o.token ? `, token: ${o.token}` : ''} }\nstorage: { kind: memory }\n` +
    `blocks:\n  - { name: d, type: probe, mode: on-demand, value: 7 }\n${o.blocks ?? ''}`;
  const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger(), plugins: o.plugins ?? [o.plugin ?? rpcPlugin(o.rpc)] });
  await e.start();
  return e;
}

/** post sends a POST /rpc body (a string as is, anything else as JSON): status, headers and the parsed answer (undefined when empty). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** req is one JSON-RPC request object. */
export const req = (id: number | string | null, method: string, params?: unknown) => ({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) });

interface LiveParams {
  subscription: string;
  events: unknown[];
}

/** RpcClient is a WebSocket JSON-RPC client: call() pairs answers by id; live events are kept by subscription. */
export class RpcClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: unknown) => void>();
  /** Every message received, parsed, in order. */
  readonly messages: unknown[] = [];
  /** Live events by subscription id, with the time each notification arrived. */
  readonly live = new Map<string, Array<{ at: number; event: unknown }>>();
  closed?: { code: number; reason: string };

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      this.messages.push(m);
      if (m && m.method === 'live') {
        const p = m.params as LiveParams;
        const list = this.live.get(p.subscription) ?? [];
        for (const event of p.events) list.push({ at: Date.now(), event });
        this.live.set(p.subscription, list);
        return;
      }
      if (m && !Array.isArray(m) && typeof m.id === 'number') this.waiting.get(m.id)?.(m);
    });
    ws.on('close', (code, reason) => { this.closed = { code, reason: String(reason) }; });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<RpcClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/rpc`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RpcClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
  }

  /** call sends a request and resolves with its whole answer object. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call(method: string, params?: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify(req(id, method, params)));
    });
  }

  /** result calls and resolves with the result, or rejects with the error's message. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async result(method: string, params?: unknown): Promise<any> {
    const a = await this.call(method, params);
    if (a.error) throw new Error(`${method}: ${a.error.message} (${a.error.code})`);
    return a.result;
  }

  /** next resolves with the next message received that matches. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async next(match: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
    const seen = this.messages.length;
    return waitFor(() => this.messages.slice(seen).find(match), timeoutMs, 'a matching message');
  }

  /** events of a subscription received so far. */
  events(sub: string): unknown[] {
    return (this.live.get(sub) ?? []).map((e) => e.event);
  }

  close(): void {
    this.ws.close();
  }
}
