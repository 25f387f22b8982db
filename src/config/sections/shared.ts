import { sharedKey } from '../schema';
import type { ConfigSection, SectionIssue } from '../section';

/** SharedRaw is `shared:` after validation, before defaults. */
export interface SharedRaw {
  kind?: 'memory' | 'redis';
  url?: string;
  prefix?: string;
  persistent_buckets?: string[];
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** checkShared flags keys that have no effect with the chosen backend. */
function checkShared(shared: unknown): SectionIssue[] {
  const issues: SectionIssue[] = [];
  if (typeof shared !== 'object' || shared === null) return issues;
  const s = shared as Record<string, unknown>;
  const kind = s.kind ?? 'memory';
  if (kind === 'memory') {
    for (const key of ['url', 'prefix']) {
      if (s[key] !== undefined) issues.push({ path: ['shared', key], message: `"${key}" has no effect with kind: memory; remove it or set kind: redis` });
    }
  } else if (kind === 'redis' && s.persistent_buckets !== undefined) {
    issues.push({ path: ['shared', 'persistent_buckets'], message: 'with kind: redis every bucket lives in Redis and persists as Redis does; remove persistent_buckets' });
  }
  return issues;
}

/** sharedSection is `shared:`: where state, counters, locks and queues live (docs/shared.md). */
export const sharedSection: ConfigSection<'shared', SharedRaw> = {
  key: 'shared',
  reload: 'restart',
  schema: {
    type: 'object',
    additionalProperties: false,
    description: 'Where state, counters, locks and queues live (docs/shared.md).',
    properties: {
      kind: { enum: ['memory', 'redis'], description: 'memory (default): in this process; redis: on a Redis server, shared by nodes.' },
      url: {
        type: 'string',
        pattern: '^rediss?://',
        'x-expected': 'a redis:// URL, e.g. redis://127.0.0.1:6379',
        description: 'kind redis: the server (default redis://127.0.0.1:6379).',
      },
      prefix: {
        type: 'string',
        pattern: '^[A-Za-z0-9_.:/-]*$',
        'x-expected': 'a key prefix of letters, digits and _ . : / -',
        description: 'kind redis: prefix of every key (default "remon:").',
      },
      persistent_buckets: {
        type: 'array',
        items: sharedKey('bucket'),
        description: 'kind memory: state buckets kept under node.data across restarts.',
      },
    },
  },
  check: checkShared,
  build(raw) {
    const s = raw ?? {};
    if (s.kind === 'redis') return { kind: 'redis', url: s.url ?? DEFAULT_REDIS_URL, prefix: s.prefix ?? 'remon:' };
    return { kind: 'memory', persistentBuckets: [...(s.persistent_buckets ?? [])] };
  },
};
