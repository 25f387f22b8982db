import type { Express } from 'express';
import type { RouteDeps } from '../server';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const metricName = (field: string): string => `remon_block_${field.replace(/[^A-Za-z0-9_]/g, '_')}`;

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
