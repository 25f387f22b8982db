import type { Config } from '../config/types';
import type { NodePlugin, PluginHost } from '../engine/plugin';
import { defineOp, noParams } from '../ops/operation';
import { Deriver } from './deriver';
import { blockSeriesInfo } from './rebuild';

/** deriveList is the operation that shows each derived series: `derive.list`, GET /api/derive. */
export const deriveList = defineOp({
  name: 'derive.list',
  summary: 'Each derived series: its expression, inputs, state, last value and message, and counts.',
  params: noParams,
  write: false,
  http: { method: 'GET', path: '/api/derive' },
  handler: (_p, { node }) => derivers.get(node)?.list() ?? [],
});

/** The deriver of each node, for derive.list (an operation reaches its node only). */
const derivers = new WeakMap<object, Deriver>();

/**
 * createDerivePlugin makes the `derive` subsystem of one node: a bus subscriber that
 * computes the series of `derive:` from their inputs' samples and publishes them
 * (src/derive/deriver.ts), a component that reads their windows back from the store at
 * start (after the store and the bus), the derive.list operation (GET /api/derive) and
 * its /metrics. A reload re-creates the derived series whose expression changed.
 *
 * One instance serves one node: NodePlugin.reload gets no host, so the instance keeps the
 * node it was installed in (src/registry.ts has the CLI's; tests make their own).
 */
export function createDerivePlugin(): NodePlugin {
  let deriver: Deriver | undefined;
  return {
    name: 'derive',
    install(host: PluginHost): void {
      const d = new Deriver({
        bus: host.bus,
        store: host.store,
        clock: host.clock,
        log: host.log.child({ subsystem: 'derive' }),
        ...blockSeriesInfo(host.node),
      }, host.config.derive ?? []);
      deriver = d;
      derivers.set(host.node, d);
      host.bus.subscribe('derive', d.handle);
      host.addComponent({ name: 'derive', after: ['bus'], start: () => d.start(), stop: () => d.idle() });
      host.ops.add(deriveList);
      host.metrics.set('derive', () => {
        const t = d.totals;
        return [
          '# HELP remon_derive_series Derived series configured.',
          '# TYPE remon_derive_series gauge',
          `remon_derive_series ${d.list().length}`,
          '# HELP remon_derive_evaluations_total Evaluations of derived series.',
          '# TYPE remon_derive_evaluations_total counter',
          `remon_derive_evaluations_total ${t.evaluations}`,
          '# HELP remon_derive_samples_total Derived samples published (evaluations with a known value).',
          '# TYPE remon_derive_samples_total counter',
          `remon_derive_samples_total ${t.samples}`,
          '# HELP remon_derive_unknown_total Evaluations whose value was unknown (no sample published).',
          '# TYPE remon_derive_unknown_total counter',
          `remon_derive_unknown_total ${t.unknown}`,
          '# HELP remon_derive_errors_total Evaluations that failed.',
          '# TYPE remon_derive_errors_total counter',
          `remon_derive_errors_total ${t.errors}`,
          '# HELP remon_derive_dropped_total Bus messages dropped while windows were rebuilt.',
          '# TYPE remon_derive_dropped_total counter',
          `remon_derive_dropped_total ${t.dropped}`,
        ];
      });
    },
    reload(config: Config): void {
      void deriver?.update(config.derive ?? []);
    },
  };
}
