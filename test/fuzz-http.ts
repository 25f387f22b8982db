import * as net from 'node:net';

/**
 * A generator of malformed and hostile HTTP requests, for the web fuzz test. It is
 * seeded (the same seed gives the same requests, so a failure can be replayed) and mixes:
 * - well-formed requests to every route with mutated paths (traversal, %-escapes, NUL,
 *   8 kB segments, unicode), query values (huge, negative, NaN, arrays, prototype keys),
 *   methods, Host/Origin/Sec-Fetch/Authorization headers and content types;
 * - bodies: truncated, deep or oversize JSON, prototype pollution keys, non-JSON;
 * - broken HTTP: garbage request lines, bad header lines, conflicting or lying
 *   Content-Length, broken chunked encoding, CL+TE smuggling, an HTTP/2 preface, a header
 *   section over the limit, a connection closed half-way.
 * Each request is sent on its own connection (`Connection: close`), so the first status
 * line read back is its answer.
 */

/** Rng is mulberry32: small, fast, and seeded. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const ROUTES = [
  '/', '/healthz', '/metrics', '/api/node', '/api/blocks', '/api/blocks/d', '/api/blocks/d/run', '/api/blocks/nope/run',
  '/api/scheduler', '/api/bus', '/api/store', '/api/series', '/api/series/d.value', '/api/series/d.up', '/api/reload',
  '/api/heartbeats', '/api/heartbeats/job', '/hb/job', '/hb/job/start', '/hb/job/fail', '/hb/job/0', '/hb/job/255', '/rpc',
  '/static/x.js', '/status', '/badge/x.svg',
];
const METHODS = [...Array(12).fill('GET'), ...Array(6).fill('POST'), 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'get', 'G\tET', 'POST /x'];
const SEGMENTS = [
  '..', '%2e%2e', '%2e%2e%2f', '..%2f..%2fetc%2fpasswd', '%00', 'a%00b', '%E0%A4%A', '%', '%zz', '\u00e9t\u00e9', '\u{1F600}',
  'x'.repeat(8000), 'd.value', 'd..value', '.', '', 'CON', 'a;b', 'a b', '<script>', '"quote', '\\..\\..\\', 'job', 'job.x', '__proto__',
];
const VALUES = [
  '0', '-1', '1e3', 'NaN', 'Infinity', '-0', '99999999999999999999', '40000000000000', '1.5', '', '%', '%00', 'true', '[]', '{}',
  'x'.repeat(5000), '9'.repeat(400), '0x10', ' 1', '1 ', '\u00e9',
];
const KEYS = ['from', 'to', 'step', 'name', 'rid', 'points', '__proto__', 'constructor[prototype][x]', 'from[]', 'a', 'x'.repeat(300)];
const TYPES = [
  'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=z',
  'APPLICATION/JSON', 'application/json;', 'application/jsonp', '', 'application/json, text/plain',
];
const BODIES = [
  '{}', '{"period":"1h"}', '{"period":', '[1,2,3]', 'null', '"text"', '42', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}',
  `${'['.repeat(20000)}${']'.repeat(20000)}`, `{"description":"${'x'.repeat(70000)}"}`, '{"paused":true,"grace":"-1s"}', '{"schedule":"61 * * * *"}',
  '\u0000\u0001\u0002', 'a=1&b=2', '{"a":1}{"b":2}', '\ufeff{}', '{"period":"1h","period":"2h"}',
];

function mutatePath(r: Rng): string {
  let p = r.pick(ROUTES);
  if (r.chance(0.5)) {
    const parts = p.split('/');
    parts[1 + r.int(Math.max(1, parts.length - 1))] = r.pick(SEGMENTS);
    p = parts.join('/');
  }
  if (r.chance(0.1)) p = p.replace(/\//g, r.pick(['//', '/./', '\\']));
  if (r.chance(0.05)) p = `http://evil.example${p}`;
  if (r.chance(0.5)) {
    const q: string[] = [];
    for (let i = r.int(4); i >= 0; i--) q.push(`${r.pick(KEYS)}=${r.pick(VALUES)}`);
    p += `?${q.join('&')}`;
  }
  // Raw non-ASCII and spaces in the request line are for the parser; mostly they come escaped.
  return r.chance(0.8) ? encodeURI(p).replace(/%25/g, '%') : p;
}

function headers(r: Rng, port: number, token: string): string[] {
  const h: string[] = [];
  const host = r.chance(0.8) ? `127.0.0.1:${port}` : r.pick([`localhost:${port}`, 'evil.example', '', '[::1]', 'x'.repeat(300), undefined]);
  if (host !== undefined) h.push(`Host: ${host}`);
  if (r.chance(0.3)) h.push(`Origin: ${r.pick(['null', 'http://evil.example', `http://127.0.0.1:${port}`, 'http://127.0.0.1:1', 'garbage', ''])}`);
  if (r.chance(0.3)) h.push(`Sec-Fetch-Site: ${r.pick(['same-origin', 'same-site', 'cross-site', 'none', 'weird'])}`);
  if (r.chance(0.2)) h.push(`Sec-Fetch-Mode: ${r.pick(['navigate', 'no-cors', 'cors'])}`);
  if (r.chance(0.5)) h.push(`Authorization: ${r.pick([`Bearer ${token}`, `Bearer ${token}`, 'Bearer nope', 'Basic eDp5', `bearer  ${token} `, 'Bearer', ''])}`);
  if (r.chance(0.1)) h.push(`X-${'a'.repeat(r.int(50))}: ${'v'.repeat(r.int(2000))}`);
  return h;
}

/** request returns the bytes of the i-th request of a run seeded with seed. */
export function request(r: Rng, port: number, token: string): Buffer {
  const kind = r.int(100);
  if (kind < 12) return brokenHttp(r, port);
  const method = r.pick(METHODS);
  const h = headers(r, port, token);
  let body = '';
  if (method !== 'GET' && method !== 'HEAD' && r.chance(0.7)) {
    body = r.pick(BODIES);
    if (r.chance(0.8)) h.push(`Content-Type: ${r.pick(TYPES)}`);
  }
  const lie = r.chance(0.05);
  if (body !== '' || r.chance(0.1)) h.push(`Content-Length: ${lie ? Buffer.byteLength(body) + r.int(10) - 5 : Buffer.byteLength(body)}`);
  h.push('Connection: close');
  return Buffer.from(`${method} ${mutatePath(r)} HTTP/1.1\r\n${h.join('\r\n')}\r\n\r\n${body}`);
}

function brokenHttp(r: Rng, port: number): Buffer {
  const host = `Host: 127.0.0.1:${port}`;
  const cases = [
    () => 'GARBAGE\r\n\r\n',
    () => `GET /healthz\r\n${host}\r\n\r\n`,
    () => `GET /healthz HTTP/9.9\r\n${host}\r\n\r\n`,
    () => `GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n`,
    () => `GET /healthz HTTP/1.1\n${host}\n\n`,
    () => `POST /api/blocks/d/run HTTP/1.1\r\n${host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n`,
    () => `POST /api/heartbeats/x HTTP/1.1\r\n${host}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    () => `POST /hb/job HTTP/1.1\r\n${host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab`,
    () => `POST /api/heartbeats/x HTTP/1.1\r\n${host}\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"a":`,
    () => `POST /api/heartbeats/x HTTP/1.1\r\n${host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}`,
    () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    () => `GET /healthz HTTP/1.1\r\n${host}\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`,
    () => `GET /${'a'.repeat(70000)} HTTP/1.1\r\n${host}\r\n\r\n`,
    () => `\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`,
    () => `GET /healthz HTTP/1.1\r\n${host}\r\n X-Folded: continued\r\n\r\n`,
    () => `GET /hb/job HTTP/1.1\r\n${host}\r\nContent-Length: -1\r\n\r\n`,
    () => `GET /healthz HTTP/1.1\r\n${host}\r\n${'X: y\r\n'.repeat(3000)}\r\n`,
  ];
  return Buffer.from(r.pick(cases)(), 'latin1');
}

/** Answer is what came back on one connection: the status of the first response (0: none). */
export interface Answer {
  status: number;
  head: string;
}

/** send writes bytes on a new connection and reads until it closes (or timeoutMs). */
export function send(port: number, bytes: Buffer, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, head: text.slice(0, 300) });
    };
    const timer = setTimeout(done, timeoutMs);
    s.on('data', (c: Buffer) => {
      if (size < 4096) chunks.push(c);
      size += c.length;
    });
    s.on('error', done);
    s.on('close', done);
    s.end(bytes);
  });
}
