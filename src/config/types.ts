import { Node } from '../expr';

/**
 * Config is the validated, frozen form of monitor.yaml that the engine runs. Durations
 * are milliseconds; paths are absolute.
 */
export interface Config {
  /** The config file as the user named it, for messages. */
  file: string;
  /** Its directory, absolute. */
  dir: string;
  node: NodeConfig;
  storage: StorageConfig;
  shared: SharedConfig;
  blocks: BlockConfig[];
}

export interface NodeConfig {
  name: string;
  listen: { host: string; port: number };
  data: string;
  token?: string;
  blockDirs: string[];
  maxConcurrency: number;
  logLevel: string;
  /** Heartbeats: a signal to an unknown name creates the heartbeat. */
  autoCreate: boolean;
}

export interface StorageConfig {
  kind: 'memory' | 'rrd' | 'influx';
  retention: string[];
  /** Present when kind is influx (docs/storage-influx.md). */
  influx?: InfluxConfig;
}

/** InfluxConfig: `storage: { kind: influx, ... }` with defaults filled. */
export interface InfluxConfig {
  url: string;
  token?: string;
  org: string;
  bucket: string;
  labels: Record<string, string>;
  /** Prometheus-API base URL for reads (defaults to url). */
  readUrl: string;
  read: 'promql';
  bufferMaxMb: number;
  flushIntervalMs: number;
  batchSize: number;
}

/** SharedConfig: the backend of state, counters, locks and queues (docs/shared.md). */
export type SharedConfig =
  | { kind: 'memory'; persistentBuckets: string[] }
  | { kind: 'redis'; url: string; prefix: string };

/** BlockMode: interval runs every `every`; once runs at start; on-demand only when asked. */
export type BlockMode = 'interval' | 'once' | 'on-demand' | 'passive';

export interface BlockConfig {
  name: string;
  type: string;
  description: string;
  mode: BlockMode;
  everyMs: number;
  timeoutMs: number;
  disabled: boolean;
  /** The nodes that run this block (`from:`), each probing from its own location; absent: the node (or the cluster) decides. */
  from?: string[];
  pipe: Step[];
  /** The block's map from monitor.yaml, as validated against its type's schema. */
  options: Readonly<Record<string, unknown>>;
  /** Fields whose samples are numbers of events (BlockType.events): count() adds them. */
  events?: string[];
}

/** Step is one compiled pipe step. */
export type Step =
  | { kind: 'if'; source: string; cond: Node; then: Step[]; else: Step[] }
  | { kind: 'set'; bucket: string; key: string; value?: Node; source?: string }
  | { kind: 'increment'; counter: string; by: number }
  | { kind: 'queue'; queue: string; maxLength?: number; maxAgeMs?: number }
  | { kind: 'run'; block: string }
  | { kind: 'lock'; name: string; ttlMs: number; waitMs: number }
  | { kind: 'with-lock'; name: string; ttlMs: number; waitMs: number; steps: Step[] };

/** Problem is one config error with its position (1-based line and column). */
export interface Problem {
  line: number;
  col: number;
  path: string;
  message: string;
}
