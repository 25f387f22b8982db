import type { Operation } from '../ops/operation';
import { formatDuration } from '../util/duration';

/** DEFAULT_URL is where a node listens unless node.listen says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:2001';
const TIMEOUT_MS = 10_000;

/** Remote is a running node the CLI talks to: `--url`/`--token`, or REMON_URL/REMON_TOKEN. */
export interface Remote {
  url: string;
  token?: string;
}

/** UsageError is a mistake on the command line (exit 2). */
export class UsageError extends Error {}

/** remoteFrom picks the node's URL and token from options, then the environment. */
export function remoteFrom(values: { url?: string; token?: string }, env: NodeJS.ProcessEnv): Remote {
  const url = (values.url ?? env.REMON_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new UsageError(`--url must be http://HOST:PORT, e.g. ${DEFAULT_URL}; got "${url}"`);
  const token = values.token ?? (env.REMON_TOKEN || undefined);
  return { url, token };
}

/** Answer is a node's HTTP answer: its status and its JSON (or text). */
export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/**
 * call makes one request to a node. It throws an Error with a message a user can act on
 * when the node cannot be reached; any HTTP answer is returned.
 */
export async function call(remote: Remote, method: string, path: string, body?: { text: string; type: string }): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (remote.token) headers.authorization = `Bearer ${remote.token}`;
  if (body) headers['content-type'] = body.type;
  let res: Response;
  try {
    res = await fetch(`${remote.url}${path}`, { method, headers, body: body?.text, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    // fetch's own error says "fetch failed"; the reason is in its cause (or the cause's list).
    const e = err as Error & { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
    const why = e.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000}s`
      : e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message;
    throw new Error(`cannot reach the node at ${remote.url}: ${why} (set --url or REMON_URL)`);
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, json };
}

/**
 * callOp calls an operation of a running node on its REST route (the operation's own
 * declaration says which): path parameters are filled from params, the rest goes in the
 * query string (GET) or a JSON body (POST, PUT).
 */
export async function callOp(remote: Remote, op: Pick<Operation, 'name' | 'http'>, params: Record<string, unknown> = {}): Promise<Answer> {
  if (!op.http) throw new Error(`operation ${op.name} has no HTTP route`);
  const rest = { ...params };
  const path = op.http.path.replace(/:([A-Za-z_]+)/g, (_, key: string) => {
    const v = rest[key];
    delete rest[key];
    return encodeURIComponent(String(v));
  });
  if (op.http.method === 'GET') {
    const q = new URLSearchParams(Object.entries(rest).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return call(remote, 'GET', q ? `${path}?${q}` : path);
  }
  return call(remote, op.http.method, path, { text: JSON.stringify(rest), type: 'application/json' });
}

/** failure words a non-2xx answer. */
export function failure(a: Answer): string {
  const reason = typeof a.json === 'object' && a.json && 'error' in a.json ? String(a.json.error) : String(a.json).slice(0, 200);
  const hint = a.status === 401 ? ' (give the node\'s token with --token or REMON_TOKEN)' : '';
  return `${reason}${hint} (HTTP ${a.status})`;
}

/** relative renders an ISO time against now: "5s ago", "in 2h3m", or "-". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const ms = Date.parse(iso) - now;
  const span = Math.abs(ms);
  // Two units are enough to read: 1d2h, not 1d2h3m4s.
  const units = formatDuration(span < 1000 ? 0 : Math.round(span / 1000) * 1000).match(/\d+[a-z]+/g) ?? ['0s'];
  const text = units.slice(0, 2).join('');
  return span < 1000 ? 'now' : ms < 0 ? `${text} ago` : `in ${text}`;
}
