import type { WebRoute } from '../server';

/** Collector gives lines of the Prometheus text exposition (with their # HELP / # TYPE). */
export type Collector = () => string[];

/** escapeLabel escapes a label value for the text exposition. */
export const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** metricName makes a valid metric name of remon_<prefix><name>. */
export const metricName = (prefix: string, name: string): string => `remon_${prefix}${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** metricFamily is one metric in the text exposition: its HELP and TYPE lines, then its samples (`name{labels} value`). */
export function metricFamily(name: string, type: 'gauge' | 'counter', help: string, samples: readonly string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

/**
 * metricsRoute: GET /metrics, the Prometheus text exposition of whatever the collectors
 * give (the engine's: scheduler, store, bus, blocks; later subsystems add theirs). A
 * collector that throws is left out of that answer, with a comment saying so.
 */
export function metricsRoute(collectors: ReadonlyMap<string, Collector>): WebRoute {
  return {
    name: 'metrics',
    mount(app) {
      app.get('/metrics', (_req, res) => {
        const lines: string[] = [];
        for (const [name, collect] of collectors) {
          try {
            lines.push(...collect());
          } catch (err) {
            lines.push(`# collector ${name} failed: ${String((err as Error)?.message ?? err).replace(/\n/g, ' ')}`);
          }
        }
        res.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
      });
    },
  };
}
