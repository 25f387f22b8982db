import { SharedConfig } from '../config/types';
import { Logger } from '../log';
import { createMemoryShared } from './memory';
import { createRedisShared } from './redis';
import { Shared } from './shared';

export type { Shared } from './shared';

/** SharedEnv is what a backend needs from the node: its data directory and logger. */
export interface SharedEnv {
  dataDir: string;
  log?: Logger;
}

/**
 * createShared builds the backend `shared:` names: memory (persistent buckets under
 * `<dataDir>/shared/`) or redis (connects in the background). It does not throw for an
 * unreachable Redis; operations fail until it is reachable.
 */
export function createShared(config: SharedConfig, env: SharedEnv): Shared {
  const log = env.log?.child({ shared: config.kind });
  switch (config.kind) {
    case 'memory':
      return createMemoryShared({ dataDir: env.dataDir, persistentBuckets: config.persistentBuckets, log });
    case 'redis':
      return createRedisShared({ url: config.url, prefix: config.prefix, log });
  }
}
