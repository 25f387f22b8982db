import type { Express } from 'express';
import type { RouteDeps } from '../server';

/** mountHealth: GET /healthz answers 200 while the engine runs. */
export function mountHealth(app: Express, { engine }: RouteDeps): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', node: engine.config.node.name, uptime_s: Math.round((Date.now() - engine.startedAt) / 1000) });
  });
}
