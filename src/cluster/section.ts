import type { CheckContext, ConfigSection, SectionIssue } from '../config/section';
import { parseDuration } from '../util/duration';

/** ClusterConfig is the built `cluster:` section: the nodes sharing one Redis run each block once. */
export interface ClusterConfig {
  /** How long a node's membership and its slot leases last unrenewed (ms); renewed every third of it. */
  leaseTtlMs: number;
  /** The cluster's name: nodes with the same shared Redis and name share the blocks. */
  name: string;
  /** How many slots block names hash into (each slot has one lease). */
  slots: number;
  /** How long a claimed alert notification is remembered cluster-wide (ms). */
  dedupeMs: number;
}

declare module '../config/types' {
  interface Config {
    /** `cluster:` (src/cluster); undefined when absent: the node runs alone. */
    cluster?: ClusterConfig;
  }
}

interface RawCluster {
  lease_ttl?: string;
  name?: string;
  slots?: number;
  dedupe_window?: string;
}

export const DEFAULT_LEASE_TTL = '10s';

/** check: a cluster coordinates through Redis, so `shared.kind` must be redis; the lease is long enough to renew. */
function check(raw: unknown, ctx: CheckContext): SectionIssue[] {
  if (raw === undefined) return [];
  const issues: SectionIssue[] = [];
  const shared = ctx.raw.shared as Record<string, unknown> | undefined;
  const kind = typeof shared === 'object' && shared !== null ? shared.kind ?? 'memory' : 'memory';
  if (kind !== 'redis') {
    issues.push({ path: ['cluster'], message: `a cluster needs shared.kind: redis (its nodes coordinate through Redis); shared.kind is ${String(kind)}` });
  }
  const ttl = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).lease_ttl : undefined;
  if (typeof ttl === 'string' && ctx.valid(['cluster', 'lease_ttl'])) {
    const ms = parseDuration(ttl);
    if (ms !== undefined && ms < 300) issues.push({ path: ['cluster', 'lease_ttl'], message: `a lease of ${ttl} is too short to renew over the network; use 300ms or more (e.g. 10s)` });
  }
  return issues;
}

/** clusterSection is `cluster:`: this node shares its blocks with the other live nodes of the cluster (docs/cluster.md). */
export const clusterSection: ConfigSection<'cluster', RawCluster | null> = {
  key: 'cluster',
  reload: 'restart',
  after: ['shared'],
  schema: {
    type: ['object', 'null'],
    additionalProperties: false,
    description: 'Run each block (without from:) on exactly one live node of the nodes sharing this Redis (docs/cluster.md). Needs shared.kind: redis.',
    'x-expected': 'a mapping with lease_ttl, name, slots, dedupe_window',
    properties: {
      lease_ttl: { $ref: '#/definitions/duration', description: 'How long a node and its block leases last unrenewed; a dead node\'s blocks run elsewhere within 2× this (default 10s).' },
      name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', 'x-expected': 'a name of letters, digits, _ . and -', description: 'The cluster\'s name (default "default"): nodes on one Redis with the same name share the blocks.' },
      slots: { type: 'integer', minimum: 1, maximum: 4096, 'x-expected': 'a whole number from 1 to 4096', description: 'Slots the block names hash into, one lease each (default 256).' },
      dedupe_window: { $ref: '#/definitions/duration', description: 'How long a notification one node sent is remembered so the others do not send it again (default 1d).' },
    },
  },
  check,
  build(raw) {
    if (raw === undefined) return undefined;
    const r = raw ?? {};
    return {
      leaseTtlMs: parseDuration(r.lease_ttl ?? DEFAULT_LEASE_TTL)!,
      name: r.name ?? 'default',
      slots: r.slots ?? 256,
      dedupeMs: parseDuration(r.dedupe_window ?? '1d')!,
    };
  },
};
