import type { NodePlugin } from '../engine/plugin';
import { Federation } from './federation';
import { bindFederation, peerOps } from './ops';

/**
 * peersPlugin makes a node's federation (`peers:`, docs/federation.md): it reads each peer
 * every `every` (Federation) from the node's start to its stop, and adds the operations
 * peers.list and peers.get (GET /api/peers[/:name]). The dashboard page /peers shows them.
 */
export function peersPlugin(): NodePlugin & { federation?: Federation } {
  const plugin: NodePlugin & { federation?: Federation } = {
    name: 'peers',
    install(host) {
      const f = new Federation(host.config.peers ?? [], host.log.child({ subsystem: 'peers' }), () => host.clock.now());
      plugin.federation = f;
      bindFederation(host.node, f);
      host.ops.add(...peerOps);
      host.addComponent({ name: 'peers', after: ['web'], start: () => f.start(), stop: () => f.stop() });
    },
  };
  return plugin;
}
