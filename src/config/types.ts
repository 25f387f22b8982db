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
}

export interface StorageConfig {
  kind: 'memory' | 'rrd';
  retention: string[];
}

export interface SharedConfig {
  kind: 'memory';
}

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
  pipe: Step[];
  /** The block's map from monitor.yaml, as validated against its type's schema. */
  options: Readonly<Record<string, unknown>>;
}

/** Step is one compiled pipe step. */
export type Step =
  | { kind: 'if'; source: string; cond: Node; then: Step[]; else: Step[] }
  | { kind: 'set'; bucket: string; key: string; value?: Node; source?: string }
  | { kind: 'increment'; counter: string; by: number }
  | { kind: 'queue'; queue: string; maxLength?: number }
  | { kind: 'run'; block: string };

/** Problem is one config error with its position (1-based line and column). */
export interface Problem {
  line: number;
  col: number;
  path: string;
  message: string;
}
