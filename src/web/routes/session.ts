import express from 'express';
import type { Request, Response } from 'express';
import { requestAuthorized, sessionCookie, tokenMatches } from '../auth';
import { JSON_LIMIT } from '../rest';
import type { WebRoute } from '../server';

/** SESSION_DAYS: how long a browser stays logged in. */
const SESSION_S = 30 * 24 * 3600;

/**
 * sessionRoute lets a browser present the node token once: `POST /api/login {"token"}`
 * sets an HttpOnly, SameSite=Strict cookie that later requests carry instead of a bearer
 * header; `POST /api/logout` clears it; `GET /api/session` says whether this browser may
 * write and whether the node asks for a token at all (the client asks for it on demand).
 */
export const sessionRoute: WebRoute = {
  name: 'session',
  mount(app, deps) {
    const { token } = deps;
    const json = express.json({ limit: JSON_LIMIT });
    app.get('/api/session', (req: Request, res: Response) => {
      res.json({ token_required: token !== undefined, authorized: requestAuthorized(req, token) });
    });
    app.post('/api/login', json, (req: Request, res: Response) => {
      const presented = (req.body as { token?: unknown } | undefined)?.token;
      if (typeof presented !== 'string' || presented.length === 0 || presented.length > 4096) {
        res.status(400).json({ error: 'expected a JSON body {"token": "<node.token>"}', code: 'REMON_ERR_OP_PARAMS' });
        return;
      }
      if (token === undefined) {
        res.json({ token_required: false, authorized: true });
        return;
      }
      if (!tokenMatches(`Bearer ${presented}`, token)) {
        res.status(401).json({ error: 'wrong token', code: 'REMON_ERR_OP_UNAUTHORIZED' });
        return;
      }
      res.set('Set-Cookie', sessionCookie(token, SESSION_S)).json({ token_required: true, authorized: true });
    });
    app.post('/api/logout', (_req: Request, res: Response) => {
      res.set('Set-Cookie', sessionCookie(token, 0)).json({ token_required: token !== undefined, authorized: token === undefined });
    });
  },
};
