/**
 * A remon node run as a user runs it (`remon run FILE` in a child process), for tests
 * that kill it, restart it and read its log; and the CLI run the same way.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { waitFor } from './helpers';

export const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

interface LogLine {
  msg: string;
  heartbeat?: string;
  event?: string;
  at?: string;
  message?: string;
  time: string;
}

/** RemonNode is `remon run FILE` in a child process, with its JSON log lines. */
export class RemonNode {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  out = '';
  constructor(readonly file: string, readonly url: string) {}

  static async start(file: string, url: string): Promise<RemonNode> {
    const n = new RemonNode(file, url);
    await n.start();
    return n;
  }

  async start(): Promise<void> {
    this.out = '';
    const child = spawn(process.execPath, [MAIN, 'run', this.file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (c) => (this.out += c));
    child.stderr!.on('data', (c) => (this.out += c));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(async () => (await fetch(`${this.url}/healthz`).catch(() => undefined))?.status === 200, 10_000, `${this.url}/healthz`);
  }

  logs(): LogLine[] {
    return this.out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  }

  /** events lists [heartbeat, event] of the heartbeat events logged so far. */
  events(name?: string): LogLine[] {
    return this.logs().filter((l) => l.msg.startsWith('heartbeat ') && l.event && (!name || l.heartbeat === name));
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child?.kill(signal);
    return (await this.exited) ?? null;
  }
}

/** get fetches a URL that must answer 200, as JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function get(url: string): Promise<any> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return res.json();
}

/** remon runs the CLI to its end: exit code, stdout, stderr (REMON_URL and REMON_TOKEN cleared unless given). */
export function remon(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000, input, env: { ...process.env, REMON_URL: '', REMON_TOKEN: '', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
