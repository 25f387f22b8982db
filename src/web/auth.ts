import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** SESSION_COOKIE is the cookie a browser keeps the node's session in (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'remon_session';

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** tokenMatches compares a presented bearer token with the configured one in constant time. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  return sameBytes(Buffer.from(m[1].trim()), Buffer.from(token));
}

/**
 * sessionValue is what the session cookie holds for a token: an HMAC of it, so the
 * cookie never carries the token itself (and a changed token ends every session).
 */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('remon browser session v1').digest('base64url');
}

/** cookieValue reads one cookie from a Cookie header (the first of that name). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * requestAuthorized tells whether a request may write: no token is configured, or it
 * carries `Authorization: Bearer <token>`, or the session cookie a browser got from
 * POST /api/login. The cookie is safe to accept for writes because the Guard refuses
 * requests another origin made, and writes take JSON only.
 */
export function requestAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  if (tokenMatches(req.headers.authorization, token)) return true;
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  return cookie !== undefined && sameBytes(Buffer.from(cookie), Buffer.from(sessionValue(token)));
}

/** sessionCookie is the Set-Cookie value that logs a browser in (or out, with maxAge 0). */
export function sessionCookie(token: string | undefined, maxAgeS: number): string {
  const value = token === undefined || maxAgeS === 0 ? '' : sessionValue(token);
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}`;
}
