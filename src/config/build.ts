import * as os from 'node:os';
import * as path from 'node:path';
import { parseDuration } from '../util/duration';
import { BlockConfig, BlockMode, Config } from './types';

/** Defaults of monitor.yaml that are not obvious from the schema. */
export const DEFAULT_EVERY_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_LISTEN = '127.0.0.1:2001';
export const DEFAULT_RETENTION = ['10s:1d', '1m:30d', '1h:1y'];

/** RawConfig is monitor.yaml after validation, before defaults. */
export interface RawConfig {
  node?: { name?: string; listen?: string; data?: string; token?: string; block_dirs?: string[]; max_concurrency?: number; log_level?: string; auto_create?: boolean };
  storage?: {
    kind?: 'rrd' | 'memory' | 'influx';
    retention?: string[];
    url?: string;
    token?: string;
    org?: string;
    bucket?: string;
    labels?: Record<string, string>;
    read_url?: string;
    read?: 'promql';
    buffer_max_mb?: number;
    flush_interval?: string;
    batch_size?: number;
  };
  shared?: { kind?: 'memory' | 'redis'; url?: string; prefix?: string; persistent_buckets?: string[] };
  blocks?: Array<Record<string, unknown>>;
}

/** parseListen splits host:port ([v6]:port allowed); an empty host means 127.0.0.1. */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  let host = listen.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host === '' ? '127.0.0.1' : host, port: Number(listen.slice(i + 1)) };
}

/** build fills defaults and resolves paths; `raw` has passed validation. */
export function build(raw: RawConfig, file: string, dir: string, pipes: Map<number, BlockConfig['pipe']>): Config {
  const n = raw.node ?? {};
  const blocks: BlockConfig[] = (raw.blocks ?? []).map((b, i) => {
    const type = b.type as string;
    const everyMs = typeof b.every === 'string' ? parseDuration(b.every)! : DEFAULT_EVERY_MS;
    const timeoutMs = typeof b.timeout === 'string' ? parseDuration(b.timeout)! : Math.min(DEFAULT_TIMEOUT_MS, everyMs);
    return {
      name: b.name as string,
      type,
      description: (b.description as string) ?? '',
      mode: (b.mode as BlockMode) ?? 'interval',
      everyMs,
      timeoutMs,
      disabled: b.disabled === true,
      pipe: pipes.get(i) ?? [],
      options: b,
    };
  });
  return {
    file,
    dir,
    node: {
      name: n.name ?? os.hostname(),
      listen: parseListen(n.listen ?? DEFAULT_LISTEN),
      data: path.resolve(dir, n.data ?? './data'),
      token: n.token ? n.token : undefined,
      blockDirs: (n.block_dirs ?? []).map((d) => path.resolve(dir, d)),
      maxConcurrency: n.max_concurrency ?? 500,
      logLevel: n.log_level ?? 'info',
      autoCreate: n.auto_create === true,
    },
    storage: buildStorage(raw.storage ?? {}),
    shared: buildShared(raw.shared ?? {}),
    blocks,
  };
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

function buildShared(s: NonNullable<RawConfig['shared']>): Config['shared'] {
  if (s.kind === 'redis') return { kind: 'redis', url: s.url ?? DEFAULT_REDIS_URL, prefix: s.prefix ?? 'remon:' };
  return { kind: 'memory', persistentBuckets: [...(s.persistent_buckets ?? [])] };
}

/** Defaults of storage.kind influx (docs/storage-influx.md). */
export const INFLUX_DEFAULTS = { bufferMaxMb: 256, flushIntervalMs: 1000, batchSize: 5000 };

function buildStorage(s: NonNullable<RawConfig['storage']>): Config['storage'] {
  const base = { kind: s.kind ?? 'rrd', retention: s.retention ?? [...DEFAULT_RETENTION] };
  if (s.kind !== 'influx') return base;
  const url = s.url!.replace(/\/+$/, '');
  return {
    ...base,
    influx: {
      url,
      token: s.token ? s.token : undefined,
      org: s.org ?? '',
      bucket: s.bucket!,
      labels: { ...(s.labels ?? {}) },
      readUrl: s.read_url ? s.read_url.replace(/\/+$/, '') : url,
      read: s.read ?? 'promql',
      bufferMaxMb: s.buffer_max_mb ?? INFLUX_DEFAULTS.bufferMaxMb,
      flushIntervalMs: s.flush_interval ? parseDuration(s.flush_interval)! : INFLUX_DEFAULTS.flushIntervalMs,
      batchSize: s.batch_size ?? INFLUX_DEFAULTS.batchSize,
    },
  };
}

/** deepFreeze freezes an object graph, so the engine cannot change the config it was given. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
