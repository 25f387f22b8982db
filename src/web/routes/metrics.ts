import type { Express } from 'express';
import type { StoreStatus } from '../../store/store';
import type { RouteDeps } from '../server';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const metricName = (field: string): string => `remon_block_${field.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** storeMetrics: remon_store_up (1 ok, 0 degraded), the store's counters and its gauges. */
function storeMetrics(st: StoreStatus): string[] {
  const kind = `{kind="${esc(st.kind)}"}`;
  const lines = [
    '# HELP remon_store_up 1 while the store takes samples normally; 0 while it holds them back or its last write failed.',
    '# TYPE remon_store_up gauge',
    `remon_store_up${kind} ${st.state === 'ok' ? 1 : 0}`,
  ];
  const metric = (name: string): string => `remon_store_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  for (const [name, value] of Object.entries(st.counters)) lines.push(`# TYPE ${metric(name)}_total counter`, `${metric(name)}_total${kind} ${value}`);
  for (const [name, value] of Object.entries(st.gauges)) lines.push(`# TYPE ${metric(name)} gauge`, `${metric(name)}${kind} ${value}`);
  return lines;
}

/** mountMetrics: GET /metrics, the Prometheus text exposition of remon and its blocks. */
export function mountMetrics(app: Express, { engine }: RouteDeps): void {
  app.get('/metrics', (_req, res) => {
    const s = engine.schedulerStats();
    const lines: string[] = [
      '# HELP remon_scheduler_runs_total Block runs started by the scheduler.',
      '# TYPE remon_scheduler_runs_total counter',
      `remon_scheduler_runs_total ${s.runs}`,
      '# HELP remon_scheduler_missed_ticks_total Ticks skipped because the block was still running.',
      '# TYPE remon_scheduler_missed_ticks_total counter',
      `remon_scheduler_missed_ticks_total ${s.missed}`,
      '# HELP remon_scheduler_lag_ms Start lag of scheduled runs.',
      '# TYPE remon_scheduler_lag_ms gauge',
      `remon_scheduler_lag_ms{quantile="0.5"} ${s.lagP50Ms}`,
      `remon_scheduler_lag_ms{quantile="0.99"} ${s.lagP99Ms}`,
      `remon_scheduler_in_flight ${s.inFlight}`,
      ...storeMetrics(engine.store.status()),
    ];
    const byMetric = new Map<string, string[]>();
    for (const b of engine.status()) {
      if (b.status === 'unknown') continue;
      for (const [field, value] of Object.entries(b.fields)) {
        const m = metricName(field);
        if (!byMetric.has(m)) byMetric.set(m, []);
        byMetric.get(m)!.push(`${m}{block="${esc(b.name)}",type="${esc(b.type)}"} ${value}`);
      }
    }
    for (const [m, samples] of byMetric) lines.push(`# TYPE ${m} gauge`, ...samples);
    res.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
}
