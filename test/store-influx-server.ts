/**
 * A real VictoriaMetrics (Debian's `victoria-metrics`) for the influx store's tests and
 * benchmark: started on a free loopback port with its data in a temporary directory, read
 * settings that make fresh samples visible at once, and stopped after. It can be stopped
 * and started again on the same port and data (an outage).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { freePort, stopChild, tmpDir } from './helpers';

export interface VictoriaMetrics {
  port: number;
  url: string;
  dataDir: string;
  /** stop ends the server (SIGTERM, then SIGKILL after 10 s) and waits for it. */
  stop(): Promise<void>;
  /** start starts it again on the same port and data (after stop); a no-op while it runs. */
  start(): Promise<void>;
  /** sync makes everything received searchable (/internal/force_flush). */
  sync(): Promise<void>;
  /** exportSamples reads raw samples of the series matching a selector: metric name → [t_ms, value][]. */
  exportSamples(match: string): Promise<Map<string, Array<[number, number]>>>;
  /** series lists the label sets of the series matching a selector. */
  series(match: string): Promise<Array<Record<string, string>>>;
}

const CANDIDATES = ['/usr/bin/victoria-metrics', '/usr/local/bin/victoria-metrics', '/usr/bin/victoria-metrics-prod'];

/** victoriaMetricsPath is the binary, or undefined when it is not installed. */
export function victoriaMetricsPath(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(':').map((d) => `${d}/victoria-metrics`);
  return [...CANDIDATES, ...onPath].find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** startVictoriaMetrics starts the server; it answers /health when this resolves. */
export async function startVictoriaMetrics(): Promise<VictoriaMetrics> {
  const bin = victoriaMetricsPath();
  if (!bin) throw new Error('victoria-metrics is not installed (apt-get install victoria-metrics)');
  const port = await freePort();
  const dataDir = tmpDir('remon-vm-');
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    // Running already: a second process would find the port answering, pass for started,
    // and leave the first one serving after the next stop().
    if (child && child.exitCode === null && child.signalCode === null) return;
    stderr = '';
    const c = spawn(
      bin,
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${dataDir}`,
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-loggerLevel=ERROR',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    child = c;
    const end = Date.now() + 15_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`victoria-metrics exited with ${c.exitCode}: ${stderr}`);
      if (await healthy(url)) return;
      if (Date.now() > end) throw new Error(`victoria-metrics did not answer on port ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await stopChild(c, 10_000);
  };
  const get = async (path: string): Promise<string> => {
    const res = await fetch(`${url}${path}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${text}`);
    return text;
  };
  await start();
  process.once('exit', () => child?.kill('SIGKILL'));
  return {
    port,
    url,
    dataDir,
    stop,
    start,
    sync: async () => {
      await get('/internal/force_flush');
    },
    exportSamples: async (match) => {
      const out = new Map<string, Array<[number, number]>>();
      const text = await get(`/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
      for (const line of text.split('\n')) {
        if (!line) continue;
        const row = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
        const list = out.get(row.metric.__name__) ?? [];
        row.timestamps.forEach((t, i) => list.push([t, row.values[i]]));
        out.set(row.metric.__name__, list);
      }
      for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
      return out;
    },
    series: async (match) => {
      const body = JSON.parse(await get(`/api/v1/series?${new URLSearchParams({ 'match[]': match })}`)) as { data: Array<Record<string, string>> };
      return body.data;
    },
  };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}
