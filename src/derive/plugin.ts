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
        const metrics: Array<[string, 'gauge' | 'counter', string, number]> = [
          ['remon_derive_series', 'gauge', 'Derived series configured.', d.list().length],
          ['remon_derive_evaluations_total', 'counter', 'Evaluations of derived series.', t.evaluations],
          ['remon_derive_samples_total', 'counter', 'Derived samples published (evaluations with a known value).', t.samples],
          ['remon_derive_unknown_total', 'counter', 'Evaluations whose value was unknown (no sample published).', t.unknown],
          ['remon_derive_errors_total', 'counter', 'Evaluations that failed.', t.errors],
          ['remon_derive_dropped_total', 'counter', 'Bus messages dropped while windows were rebuilt.', t.dropped],
        ];
        return metrics.flatMap(([name, type, help, value]) => [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`]);
      });
    },
    reload(config: Config): void {
      void deriver?.update(config.derive ?? []);
    },
  };
}
