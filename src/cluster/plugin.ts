import { alertingFor } from '../alerts/instance';
import type { NodePlugin, PluginHost } from '../engine/plugin';
import type { NodeApi } from '../ops/node';
import { defineOp, noParams } from '../ops/operation';
import { ClusterLeases } from './leases';

/** ClusterStatus is what cluster.status answers. */
export interface ClusterStatus {
  /** The cluster's name; null on a node without `cluster:`. */
  cluster: string | null;
  node: string;
  lease_ttl_ms: number;
  slots: number;
  /** Live members and how many slots each holds now. */
  members: Array<{ name: string; slots: number }>;
  /** Slots this node runs the blocks of. */
  held: number;
  /** This node's blocks by its leases (blocks with from: are not the cluster's). */
  blocks: string[];
  state: 'ok' | 'failing' | 'off';
  last_renewal?: string;
  counts: ClusterLeases['counts'];
}

const leasesOf = new WeakMap<object, ClusterLeases>();

/** alone is what cluster.status says on a node without `cluster:`: it runs every block itself. */
function alone(node: NodeApi): ClusterStatus {
  const counts = { ticks: 0, failures: 0, gained: 0, lost: 0, lapses: 0, claims: 0, claimed: 0, claimFailures: 0 };
  return { cluster: null, node: node.config.node.name, lease_ttl_ms: 0, slots: 0, members: [], held: 0, blocks: [], state: 'off', counts };
}

function status(node: NodeApi, l: ClusterLeases): ClusterStatus {
  const c = node.config.cluster!;
  const perNode = new Map<string, number>(l.members.map((m) => [m, 0]));
  for (const v of l.owners) {
    if (v === '') continue;
    const who = v.slice(0, v.lastIndexOf('|'));
    perNode.set(who, (perNode.get(who) ?? 0) + 1);
  }
  const held = l.heldSlots();
  return {
    cluster: c.name,
    node: node.config.node.name,
    lease_ttl_ms: c.leaseTtlMs,
    slots: c.slots,
    members: [...perNode].map(([name, slots]) => ({ name, slots })).sort((a, b) => a.name.localeCompare(b.name)),
    held: held.size,
    blocks: node.config.blocks.filter((b) => b.from === undefined && held.has(l.slot(b.name))).map((b) => b.name).sort(),
    state: l.renewing ? 'ok' : 'failing',
    ...(l.lastTickAt !== undefined && { last_renewal: new Date(l.lastTickAt).toISOString() }),
    counts: { ...l.counts },
  };
}

/** clusterStatus is the operation that shows the cluster: `cluster.status`, GET /api/cluster. */
export const clusterStatus = defineOp({
  name: 'cluster.status',
  summary: 'The cluster as this node sees it: live members and the slots each holds, this node\'s blocks, lease renewals.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/cluster' },
  handler: (_p, { node }) => {
    const l = leasesOf.get(node);
    return l ? status(node, l) : alone(node);
  },
});

/**
 * clusterPlugin makes a node with `cluster:` share its blocks with the other live nodes on
 * the same Redis (docs/cluster.md): its leases are a Placement (each block without from:
 * runs on the node holding its slot), renewed by a component started after the blocks (and
 * stopped before them, leaving the cluster); notifications are claimed cluster-wide so one
 * node sends each; cluster.status (GET /api/cluster) and /metrics show it. Without
 * `cluster:` it does nothing. Install it after the alerts plugin.
 */
export function clusterPlugin(): NodePlugin {
  return {
    name: 'cluster',
    install(host: PluginHost): void {
      host.ops.add(clusterStatus);
      const c = host.config.cluster;
      if (!c || host.config.shared.kind !== 'redis') return;
      const shared = host.config.shared;
      const l = new ClusterLeases({
        url: shared.url,
        prefix: `${shared.prefix}cluster:${c.name}:`,
        node: host.config.node.name,
        ttlMs: c.leaseTtlMs,
        slots: c.slots,
        clock: host.clock,
        log: host.log.child({ subsystem: 'cluster' }),
        changed: () => host.placement.changed(),
      });
      leasesOf.set(host.node, l);
      host.placement.add(l);
      alertingFor(host.node)?.useClaim((key, field, kind) => l.claim(key, field, kind, c.dedupeMs));
      host.addComponent({ name: 'cluster', after: ['blocks'], start: () => l.start(), stop: () => l.stop() });
      host.metrics.set('cluster', () => {
        const s = status(host.node, l);
        const k = l.counts;
        const metrics: Array<[string, 'gauge' | 'counter', string, number]> = [
          ['remon_cluster_members', 'gauge', 'Live members of the cluster.', s.members.length],
          ['remon_cluster_slots_held', 'gauge', 'Slots this node holds the lease of.', s.held],
          ['remon_cluster_blocks_owned', 'gauge', 'Blocks this node runs by its leases.', s.blocks.length],
          ['remon_cluster_renewals_total', 'counter', 'Lease renewals that succeeded.', k.ticks],
          ['remon_cluster_renewal_failures_total', 'counter', 'Lease renewals that failed.', k.failures],
          ['remon_cluster_slots_gained_total', 'counter', 'Slots this node took.', k.gained],
          ['remon_cluster_slots_lost_total', 'counter', 'Slots this node gave up or lost.', k.lost],
          ['remon_cluster_lease_lapses_total', 'counter', 'Times the leases were not renewed in time and the blocks stopped.', k.lapses],
          ['remon_cluster_claims_total', 'counter', 'Notifications this node asked to send.', k.claims],
          ['remon_cluster_claims_won_total', 'counter', 'Notifications this node was the first to claim (and sent).', k.claimed],
        ];
        const lines = metrics.flatMap(([name, type, help, value]) => [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`]);
        lines.push('# HELP remon_cluster_member_slots Slots each live member holds.', '# TYPE remon_cluster_member_slots gauge');
        for (const m of s.members) lines.push(`remon_cluster_member_slots{member="${m.name}"} ${m.slots}`);
        return lines;
      });
    },
  };
}
