import type { Express, Request, Response } from 'express';
import { RemonError } from '../../errors';
import { requireToken } from '../auth';
import type { RouteDeps } from '../server';

const NAME = /^[A-Za-z0-9_-]+$/;
const SERIES = /^[A-Za-z0-9_.-]+$/;

/** numberParam reads an optional numeric query parameter, or reports why it is bad. */
function numberParam(req: Request, name: string): number | undefined | Error {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^-?\d+(\.\d+)?$/.test(v)) return new Error(`${name} must be a number (epoch milliseconds or ms)`);
  return Number(v);
}

/** mountApi: the JSON API of blocks and series (DESIGN.md, HTTP contract). */
export function mountApi(app: Express, { engine, token }: RouteDeps): void {
  app.get('/api/blocks', (_req, res) => {
    res.json(engine.status().map(({ output: _output, ...rest }) => rest));
  });

  app.get('/api/blocks/:name', (req, res) => {
    const s = engine.blockStatus(req.params.name);
    if (!s) return void res.status(404).json({ error: `no block is named "${req.params.name}"` });
    res.json(s);
  });

  // On-demand run of a block (mode: on-demand, or any block now).
  app.post('/api/blocks/:name/run', requireToken(token), async (req: Request, res: Response) => {
    const name = String(req.params.name);
    if (!NAME.test(name)) return void res.status(400).json({ error: 'block names are letters, digits, _ and -' });
    try {
      res.json(await engine.runNow(name));
    } catch (err) {
      const code = (err as RemonError).code;
      const status = code === 'REMON_ERR_BLOCK_UNKNOWN' ? 404 : code === 'REMON_ERR_BLOCK_BUSY' ? 409 : 503;
      res.status(status).json({ error: (err as Error).message });
    }
  });

  app.get('/api/scheduler', (_req, res) => {
    res.json(engine.schedulerStats());
  });

  app.get('/api/store', (_req, res) => {
    res.json(engine.store.status());
  });

  app.get('/api/series', (_req, res) => {
    res.json(engine.store.list());
  });

  app.get('/api/series/:name', async (req, res) => {
    const name = String(req.params.name);
    if (!SERIES.test(name)) return void res.status(400).json({ error: 'series names are <block>.<field>' });
    const now = Date.now();
    const from = numberParam(req, 'from');
    const to = numberParam(req, 'to');
    const step = numberParam(req, 'step');
    for (const v of [from, to, step]) if (v instanceof Error) return void res.status(400).json({ error: v.message });
    const range = { from: (from as number | undefined) ?? now - 3_600_000, to: (to as number | undefined) ?? now, step: step as number | undefined };
    if (range.from > range.to) return void res.status(400).json({ error: 'from must not be after to' });
    if (range.step !== undefined && range.step <= 0) return void res.status(400).json({ error: 'step must be positive' });
    if (range.step !== undefined && (range.to - range.from) / range.step > 100_000) {
      return void res.status(400).json({ error: 'too many points; use a larger step' });
    }
    if (!engine.store.list().includes(name)) return void res.status(404).json({ error: `no series is named "${name}"` });
    res.json(await engine.store.fetch(name, range));
  });
}
