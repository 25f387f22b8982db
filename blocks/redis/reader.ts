import Redis from 'ioredis';
import { redactUrl } from '../../src/util/url';

/** Read is one value a run asks of the server, and the field it becomes. */
export type Read =
  | { field: string; cmd: 'llen' | 'xlen' | 'scard' | 'zcard' | 'get'; key: string; what: string }
  | { field: string; cmd: 'hget'; key: string; hashField: string; what: string };

/** ReadOutcome: the numbers read, and why the others are missing. */
export interface ReadOutcome {
  fields: Record<string, number>;
  problems: string[];
  /** One line per value read, for the UI. */
  lines: string[];
}

const DECIMAL = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** shown cuts a value for a message: at most 40 characters, quoted. */
function shown(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
}

/** parseInfo reads INFO's `name:value` lines (all sections) into a map. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/**
 * RedisReader keeps one connection to a Redis server for a block and reads its values in
 * one pipeline per run. ioredis reconnects by itself (backing off up to 2s); a run that
 * finds the connection down waits only until ioredis reports its next error (or the run
 * is aborted), so the run says what it saw (`connect ECONNREFUSED 127.0.0.1:6379`) instead
 * of timing out. Commands are never queued while the server is away.
 */
export class RedisReader {
  private readonly client: Redis;
  private lastError = '';
  /** The server as messages name it: the URL without its password. */
  readonly where: string;

  constructor(url: string, password: string | undefined, connectTimeoutMs: number) {
    this.where = redactUrl(url);
    this.client = new Redis(url, {
      ...(password !== undefined && { password }),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
    });
  }

  /** ready resolves to undefined once connected, or to what the last attempt saw. */
  private ready(signal: AbortSignal): Promise<string | undefined> {
    const c = this.client;
    if (c.status === 'ready') return Promise.resolve(undefined);
    if (c.status === 'wait' || c.status === 'end') c.connect().catch(() => undefined);
    return new Promise((resolve) => {
      const done = (why: string | undefined): void => {
        c.off('ready', onReady);
        c.off('error', onError);
        c.off('end', onEnd);
        signal.removeEventListener('abort', onAbort);
        resolve(why);
      };
      const onReady = (): void => done(undefined);
      const onError = (err: Error): void => done(err.message);
      const onEnd = (): void => done(this.lastError || 'connection closed');
      const onAbort = (): void => done(this.lastError ? `still not connected (${this.lastError})` : 'not connected before the run timed out');
      c.on('ready', onReady);
      c.on('error', onError);
      c.on('end', onEnd);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * read runs the reads (and INFO, when `info` names fields) in one pipeline. It rejects
   * with a message when the server cannot be reached; a value that is missing or not a
   * number is a problem of its own, and the other values are still read.
   */
  async read(reads: readonly Read[], info: readonly string[], signal: AbortSignal): Promise<ReadOutcome> {
    const down = await this.ready(signal);
    if (down !== undefined) throw new Error(`cannot reach redis at ${this.where}: ${down}`);
    const p = this.client.pipeline();
    for (const r of reads) {
      if (r.cmd === 'hget') p.hget(r.key, r.hashField);
      else p[r.cmd](r.key);
    }
    if (info.length > 0) p.info('everything');
    const replies = (await p.exec()) ?? [];
    const out: ReadOutcome = { fields: {}, problems: [], lines: [] };
    const wrongType: Read[] = [];
    reads.forEach((r, i) => {
      const [err, value] = replies[i] ?? [new Error('no reply')];
      if (err) {
        if (/^WRONGTYPE/.test(err.message)) wrongType.push(r);
        else out.problems.push(`${r.what}: ${err.message}`);
        return;
      }
      if (value === null || value === undefined) {
        out.problems.push(`${r.what}: no value (${r.cmd === 'hget' ? `hash "${r.key}" has no field "${r.hashField}"` : `key "${r.key}" does not exist`})`);
        return;
      }
      const text = String(value);
      if (typeof value !== 'number' && !DECIMAL.test(text)) {
        out.problems.push(`${r.what}: not a number: ${shown(text)}`);
        return;
      }
      out.fields[r.field] = Number(text);
      out.lines.push(`${r.field} = ${text}  (${r.cmd.toUpperCase()} ${r.key}${r.cmd === 'hget' ? ` ${r.hashField}` : ''})`);
    });
    if (info.length > 0) this.readInfo(replies[reads.length], info, out);
    // Say what the key holds: "holds a list, not a string".
    for (const r of wrongType) {
      const type = await this.client.type(r.key).catch(() => 'another type');
      out.problems.push(`${r.what}: key "${r.key}" holds a ${type}, not ${EXPECTS[r.cmd]} (${r.cmd.toUpperCase()} refused it)`);
    }
    return out;
  }

  private readInfo(reply: [Error | null, unknown] | undefined, info: readonly string[], out: ReadOutcome): void {
    const [err, text] = reply ?? [new Error('no reply')];
    if (err) {
      out.problems.push(`INFO: ${err.message}`);
      return;
    }
    const values = parseInfo(String(text));
    for (const name of info) {
      const v = values.get(name);
      if (v === undefined) out.problems.push(`info ${name}: INFO has no field "${name}"`);
      else if (!DECIMAL.test(v)) out.problems.push(`info ${name}: not a number: ${shown(v)}`);
      else {
        out.fields[name] = Number(v);
        out.lines.push(`${name} = ${v}  (INFO)`);
      }
    }
  }

  close(): void {
    this.client.disconnect();
  }
}

const EXPECTS: Record<Read['cmd'], string> = {
  llen: 'a list',
  xlen: 'a stream',
  scard: 'a set',
  zcard: 'a sorted set (zset)',
  get: 'a string',
  hget: 'a hash',
};
