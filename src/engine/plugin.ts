import type { Bus } from '../bus';
import type { Clock } from '../clock';
import type { Config } from '../config/types';
import type { Logger } from '../log';
import type { NodeApi } from '../ops/node';
import type { OpTable } from '../ops/table';
import type { Shared } from '../shared/shared';
import type { Store } from '../store/store';
import type { Collector } from '../web/routes/metrics';
import type { WebRoute } from '../web/server';
import type { Component } from './lifecycle';
import type { PlacementSet } from './placement';

/**
 * PluginHost is what a subsystem gets to plug into a node: the seams (the bus, the clock,
 * the operations table, the route list, the metrics collectors, the component list) and
 * the parts it may read (the running config, the store, shared state, the node's API).
 */
export interface PluginHost {
  /** The config the node started with; later configs come to NodePlugin.reload. */
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly bus: Bus;
  readonly store: Store;
  readonly shared: Shared;
  readonly node: NodeApi;
  readonly ops: OpTable;
  readonly routes: WebRoute[];
  readonly metrics: Map<string, Collector>;
  /** Which blocks this node runs: add a Placement (a cluster's leases) and call changed() when its answers change. */
  readonly placement: PlacementSet;
  /** addComponent adds a part with a start and a stop, ordered by its `after` (e.g. ['bus']). */
  addComponent(c: Component): void;
}

/**
 * NodePlugin is a subsystem of the node that is not a block type: derived series, SLA
 * tests, and next alerts, the live hub, RPC. Its config section is registered beside it
 * (src/registry.ts); install wires it into the seams, once, when the engine is built;
 * reload hears of a config a reload applied (its section's `reload` is 'live').
 */
export interface NodePlugin {
  name: string;
  install(host: PluginHost): void;
  reload?(config: Config): void;
}
