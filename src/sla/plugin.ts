import type { Config } from '../config/types';
import { blockSeriesInfo } from '../derive/rebuild';
import type { NodePlugin, PluginHost } from '../engine/plugin';
import { slaMetrics } from './metrics';
import { bindRunner, slaOps } from './ops';
import { SlaRunner } from './runner';

/** SlaPluginOptions: for tests, how often an evaluated SLA's samples go out. */
export interface SlaPluginOptions {
  sampleEveryMs?: number;
}

/**
 * createSlaPlugin makes the SLA tests of one node (`slas:`, src/sla): a bus subscriber
 * that feeds each test the samples it reads and evaluates it (SlaRunner), a component that
 * reads the tests' windows back from the store and starts the SLAs on the node's clock
 * (after the bus), the operations slas.list and slas.get (GET /api/slas[/:name]), and
 * /metrics. Every state change is an `sla.state` event on the bus with the SLA's samples,
 * and a log line. A reload restarts the SLAs whose entry changed.
 *
 * One instance serves one node: NodePlugin.reload gets no host, so the instance keeps the
 * runner of the node it was installed in (src/registry.ts has the CLI's; tests make their own).
 */
export function createSlaPlugin(o: SlaPluginOptions = {}): NodePlugin & { runner?: SlaRunner } {
  const plugin: NodePlugin & { runner?: SlaRunner } = {
    name: 'slas',
    install(host: PluginHost): void {
      const log = host.log.child({ subsystem: 'sla' });
      const runner = new SlaRunner({
        bus: host.bus,
        store: host.store,
        clock: host.clock,
        log,
        dataDir: host.config.node.data,
        sampleEveryMs: o.sampleEveryMs,
        ...blockSeriesInfo(host.node),
      }, host.config.slas ?? []);
      plugin.runner = runner;
      bindRunner(host.node, runner);
      host.bus.subscribe('sla', runner.feed.handle);
      host.addComponent({ name: 'sla', after: ['bus'], start: () => runner.start(), stop: () => runner.stop() });
      host.ops.add(...slaOps);
      host.metrics.set('sla', slaMetrics(runner));
    },
    reload(config: Config): void {
      void plugin.runner?.reload(config.slas ?? []);
    },
  };
  return plugin;
}
