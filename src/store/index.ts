import { Config } from '../config/types';
import { Logger } from '../log';
import { createInfluxStore } from './influx';
import * as path from 'node:path';
import { MemoryStore } from './memory';
import { RrdStore } from './rrd/store';
import { Store } from './store';

export { MemoryStore } from './memory';
export type { FetchOptions, Sample, SeriesData, Store } from './store';

/** StoreDeps: what a store may need from the node besides its config. */
export interface StoreDeps {
  log: Logger;
}

/** createStore builds the store `storage.kind` names. */
export function createStore(config: Config, deps: StoreDeps): Store {
  switch (config.storage.kind) {
    case 'memory':
      return new MemoryStore();
    case 'influx':
      return createInfluxStore(config, deps.log);
    case 'rrd':
    default:
      return new RrdStore({ dir: path.join(config.node.data, 'rrd'), retention: config.storage.retention, log: deps.log });
  }
}
