import type { BusStats } from '../bus';
import type { StoreStatus } from '../store/store';
import { Collector, escapeLabel as esc, metricName } from '../web/routes/metrics';
import type { SchedulerStats } from './scheduler';
import type { BlockStatus } from './state';

/** schedulerMetrics: runs, missed ticks, run errors, lag quantiles, runs in flight. */
export function schedulerMetrics(stats: () => SchedulerStats): Collector {
  return () => {
    const s = stats();
    return [
      '# HELP remon_scheduler_runs_total Block runs started by the scheduler.',
      '# TYPE remon_scheduler_runs_total counter',
      `remon_scheduler_runs_total ${s.runs}`,
      '# HELP remon_scheduler_missed_ticks_total Ticks skipped because the block was still running.',
      '# TYPE remon_scheduler_missed_ticks_total counter',
      `remon_scheduler_missed_ticks_total ${s.missed}`,
      '# HELP remon_scheduler_errors_total Runs whose job threw instead of reporting a result.',
      '# TYPE remon_scheduler_errors_total counter',
      `remon_scheduler_errors_total ${s.errors}`,
      '# HELP remon_scheduler_lag_ms Start lag of scheduled runs.',
      '# TYPE remon_scheduler_lag_ms gauge',
      `remon_scheduler_lag_ms{quantile="0.5"} ${s.lagP50Ms}`,
      `remon_scheduler_lag_ms{quantile="0.99"} ${s.lagP99Ms}`,
      '# TYPE remon_scheduler_in_flight gauge',
      `remon_scheduler_in_flight ${s.inFlight}`,
    ];
  };
}

/** storeMetrics: remon_store_up (1 ok, 0 degraded), the store's counters and its gauges. */
export function storeMetrics(status: () => StoreStatus): Collector {
  return () => {
    const st = status();
    const kind = `{kind="${esc(st.kind)}"}`;
    const lines = [
      '# HELP remon_store_up 1 while the store takes samples normally; 0 while it holds them back or its last write failed.',
      '# TYPE remon_store_up gauge',
      `remon_store_up${kind} ${st.state === 'ok' ? 1 : 0}`,
    ];
    for (const [name, value] of Object.entries(st.counters)) lines.push(`# TYPE ${metricName('store_', name)}_total counter`, `${metricName('store_', name)}_total${kind} ${value}`);
    for (const [name, value] of Object.entries(st.gauges)) lines.push(`# TYPE ${metricName('store_', name)} gauge`, `${metricName('store_', name)}${kind} ${value}`);
    return lines;
  };
}

/** busMetrics: messages published; per subscriber deliveries, failures, drops and pending ones. */
export function busMetrics(stats: () => BusStats): Collector {
  return () => {
    const b = stats();
    const lines = [
      '# HELP remon_bus_published_total Messages (results and derived samples) published on the bus.',
      '# TYPE remon_bus_published_total counter',
      `remon_bus_published_total ${b.published}`,
    ];
    const per = (metric: string, type: string, help: string, pick: (s: BusStats['subscribers'][number]) => number): void => {
      lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} ${type}`);
      for (const s of b.subscribers) lines.push(`${metric}{subscriber="${esc(s.name)}"} ${pick(s)}`);
    };
    per('remon_bus_delivered_total', 'counter', 'Messages delivered to a subscriber.', (s) => s.delivered);
    per('remon_bus_failures_total', 'counter', 'Deliveries whose subscriber threw or rejected.', (s) => s.failures);
    per('remon_bus_dropped_total', 'counter', 'Messages not delivered because the subscriber had too many pending.', (s) => s.dropped);
    per('remon_bus_pending', 'gauge', 'Deliveries whose promise has not settled.', (s) => s.pending);
    return lines;
  };
}

/** blockMetrics: each block's latest fields as remon_block_<field>{block,type}, and its pipe errors. */
export function blockMetrics(status: () => BlockStatus[]): Collector {
  return () => {
    const lines: string[] = [];
    const byMetric = new Map<string, string[]>();
    const pipe: string[] = [];
    for (const b of status()) {
      const labels = `{block="${esc(b.name)}",type="${esc(b.type)}"}`;
      if (b.pipeErrors > 0) pipe.push(`remon_block_pipe_errors_total${labels} ${b.pipeErrors}`);
      if (b.status === 'unknown') continue;
      for (const [field, value] of Object.entries(b.fields)) {
        const m = metricName('block_', field);
        let list = byMetric.get(m);
        if (!list) byMetric.set(m, (list = []));
        list.push(`${m}${labels} ${value}`);
      }
    }
    for (const [m, samples] of byMetric) lines.push(`# TYPE ${m} gauge`, ...samples);
    if (pipe.length) lines.push('# TYPE remon_block_pipe_errors_total counter', ...pipe);
    return lines;
  };
}
