import type { BusStats } from '../bus';
import type { Config } from '../config/types';
import type { BlockHub } from '../engine/block';
import type { Result, Trigger } from '../engine/result';
import type { SchedulerStats } from '../engine/scheduler';
import type { BlockStatus } from '../engine/state';
import type { Shared } from '../shared/shared';
import type { Store } from '../store/store';

/** ReloadReport says what a reload did. */
export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
  /** Sections that changed but take effect only after a restart (node, storage, shared). */
  restartNeeded: string[];
}

/**
 * NodeApi is the part of a running node that operations reach: what the engine offers to
 * REST, RPC, the CLI and pages, and nothing else. The engine implements it; tests may too.
 */
export interface NodeApi {
  readonly config: Config;
  /** Epoch ms the node started. */
  readonly startedAt: number;
  readonly store: Store;
  /** The node's shared state, counters, locks and queues (memory or redis). */
  readonly shared: Shared;
  status(): BlockStatus[];
  blockStatus(name: string): BlockStatus | undefined;
  runNow(name: string, trigger?: Trigger): Promise<Result>;
  schedulerStats(): SchedulerStats;
  busStats(): BusStats;
  hub(type: string): BlockHub | undefined;
  /** reload re-reads monitor.yaml and applies it; REMON_ERR_RELOAD_INVALID keeps the running config. */
  reload(): Promise<ReloadReport>;
}
