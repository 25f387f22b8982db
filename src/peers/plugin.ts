import type { NodePlugin } from '../engine/plugin';
import { metricFamily } from '../web/routes/metrics';
import { Federation } from './federation';
import { bindFederation, peerOps } from './ops';
import { Quorum } from './quorum';

/**
 * peersPlugin makes a node's federation (`peers:`, docs/federation.md): it reads each peer
 * every `every` (Federation) from the node's start to its stop, and adds the operations
 * peers.list and peers.get (GET /api/peers[/:name]) and `remon_peer_up` on /metrics. The dashboard page /peers shows them. For each `from:` block
 * this node runs, Quorum publishes the per-location and aggregate series (quorum.ts).
 */
export function peersPlugin(): NodePlugin & { federation?: Federation; quorum?: Quorum } {
  const plugin: NodePlugin & { federation?: Federation; quorum?: Quorum } = {
    name: 'peers',
    install(host) {
      const f = new Federation(host.config.peers ?? [], host.log.child({ subsystem: 'peers' }), () => host.clock.now());
      plugin.federation = f;
      bindFederation(host.node, f);
      host.ops.add(...peerOps);
      host.metrics.set('peers', () => metricFamily('remon_peer_up', 'gauge', 'Peers (peers:) whose last read answered: 1 up, 0 down or not read yet.',
        f.list().map((p) => `remon_peer_up{peer="${p.name}"} ${p.state === 'up' ? 1 : 0}`)));
      host.addComponent({ name: 'peers', after: ['web'], start: () => f.start(), stop: () => f.stop() });
      const q = new Quorum({ self: host.config.node.name, blocks: host.config.blocks, federation: f, bus: host.bus, clock: host.clock, log: host.log.child({ subsystem: 'quorum' }) });
      plugin.quorum = q;
      host.addComponent({ name: 'quorum', after: ['bus', 'peers'], start: () => q.start(), stop: () => q.stop() });
    },
  };
  return plugin;
}
