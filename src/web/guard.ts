import type { IncomingMessage } from 'node:http';
import { isLoopback } from '../util/url';

/** GuardOptions: the address the node listens on. */
export interface GuardOptions {
  listen: { host: string; port: number };
}

/** Refusal is why a request is refused before any route sees it. */
export interface Refusal {
  status: number;
  code: 'REMON_ERR_WEB_FORBIDDEN' | 'REMON_ERR_WEB_MEDIA_TYPE';
  error: string;
}

const LOOPBACK_NAMES = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;
const SAFE = new Set(['GET', 'HEAD']);

/** hostName is the name part of a Host header ("127.0.0.1:2001" → "127.0.0.1", "[::1]:80" → "[::1]"). */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(host);
  return (m ? m[1] : host).toLowerCase();
}

/** sameOrigin tells whether an Origin header names the host the request was sent to (any scheme: a TLS proxy may front the node). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file://) and anything unparseable
  }
}

/**
 * Guard keeps other origins in the user's browser away from the node, with or without a
 * token (DESIGN: "a page of another origin can neither read nor write a node"):
 * - a node on loopback answers only to loopback Host names (or its own listen host), so a
 *   DNS-rebinding page cannot read it under another name;
 * - a request another origin made (Origin not this host, or Sec-Fetch-Site other than
 *   same-origin/none) is refused, except a plain top-level navigation GET of a page or the
 *   API (a link someone follows; the attacker cannot read the answer). Heartbeat URLs are
 *   writes by GET, so they are refused even then (an <img> tag cannot signal a job done).
 *   The status badges (GET /badge/...) are public images made to be embedded in other
 *   sites' pages (a wiki, a README): another origin may load them (it cannot read them);
 * - a write (anything but GET/HEAD) other than a heartbeat signal carries JSON or nothing:
 *   an HTML form or a `text/plain` no-cors fetch cannot make one.
 */
export class Guard {
  private readonly checkHost: boolean;
  private readonly listenHost: string;
  /** The last Host header found to name this node (checkHost). */
  private lastHost?: string;

  constructor(options: GuardOptions) {
    this.listenHost = options.listen.host.toLowerCase();
    this.checkHost = isLoopback(options.listen.host);
  }

  /** check returns why a request is refused, or undefined to let it through. */
  check(req: IncomingMessage): Refusal | undefined {
    const host = req.headers.host;
    if (this.checkHost && host !== undefined && host !== this.lastHost) {
      const name = hostName(host);
      if (!LOOPBACK_NAMES.test(name) && name !== this.listenHost && name !== `[${this.listenHost}]`) {
        return { status: 403, code: 'REMON_ERR_WEB_FORBIDDEN', error: `this node answers to loopback names only (localhost, 127.0.0.1, [::1]), not "${host.slice(0, 100)}"` };
      }
      // Clients send the same Host again and again: the last one let through is not parsed twice.
      this.lastHost = host;
    }
    const url = req.url ?? '/';
    const heartbeat = url === '/hb' || url.startsWith('/hb/') || url.startsWith('/hb?');
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    const foreign = (origin !== undefined && !sameOrigin(origin, host)) || (site !== undefined && site !== 'same-origin' && site !== 'none');
    if (foreign) {
      const navigation = SAFE.has(method) && req.headers['sec-fetch-mode'] === 'navigate' && origin === undefined;
      const badge = SAFE.has(method) && url.startsWith('/badge/');
      if ((!navigation && !badge) || heartbeat) {
        return { status: 403, code: 'REMON_ERR_WEB_FORBIDDEN', error: 'refused: the request came from a page of another origin' };
      }
    }
    if (!SAFE.has(method) && !heartbeat && hasBody(req) && !isJson(req.headers['content-type'])) {
      return { status: 415, code: 'REMON_ERR_WEB_MEDIA_TYPE', error: 'writes take a JSON body (Content-Type: application/json) or none' };
    }
    return undefined;
  }
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function isJson(type: string | undefined): boolean {
  if (type === undefined) return false;
  const media = type.split(';')[0].trim().toLowerCase();
  return media === 'application/json';
}
