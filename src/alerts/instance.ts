import { createError } from '../errors';
import type { OpContext } from '../ops/operation';
import type { Alerting } from './alerting';

const instances = new WeakMap<object, Alerting>();

/** bindAlerting makes a node's Alerting reachable from its operations (which get the node only). */
export function bindAlerting(node: object, a: Alerting): void {
  instances.set(node, a);
}

/** alertingOf is the node's Alerting, or REMON_ERR_UNAVAILABLE when the plugin is not installed. */
export function alertingOf(ctx: OpContext): Alerting {
  const a = instances.get(ctx.node);
  if (!a) throw createError('REMON_ERR_UNAVAILABLE', 'alerts are not available on this node');
  return a;
}

/** alertingFor is the node's Alerting, if the alerts plugin is installed (a cluster hooks its claims in). */
export function alertingFor(node: object): Alerting | undefined {
  return instances.get(node);
}
