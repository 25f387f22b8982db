export { clusterPlugin, clusterStatus } from './plugin';
export type { ClusterStatus } from './plugin';
export { clusterSection } from './section';
export type { ClusterConfig } from './section';
export { ClusterLeases, slotOf } from './leases';
