import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';

/** tokenMatches compares a presented bearer token with the configured one in constant time. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1].trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * requireToken guards writes: with node.token set, a request must carry
 * `Authorization: Bearer <token>`; without one, the node only listens on loopback.
 */
export function requireToken(token: string | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (token === undefined || tokenMatches(req.headers.authorization, token)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'missing or wrong bearer token (Authorization: Bearer <node.token>)' });
  };
}
