import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { DEFAULT_EVERY_MS, DEFAULT_TIMEOUT_MS } from '../../src/config/build';
import { BlockInstance, BlockType, JsonSchema, RunContext, RunOutput } from '../../src/engine/block';
import { formatDuration, parseDuration } from '../../src/util/duration';
import { Expect, ExpectOptions } from './expect';
import { hop, HopResult } from './probe';

/** HttpOptions: the block's keys in monitor.yaml (see README.md). */
export interface HttpOptions {
  name: string;
  every?: string;
  timeout?: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Record<string, unknown> | unknown[];
  basic_auth?: { username: string; password?: string };
  bearer_token?: string;
  follow_redirects?: boolean;
  max_redirects?: number;
  tls_verify?: boolean;
  ca?: string;
  max_body?: number;
  expect?: ExpectOptions;
}

export const DEFAULT_MAX_REDIRECTS = 5;
/** HTTP_FIELDS are the fields a run may give (tls_ms and cert_days_left with https, the timings as far as it got). */
export const HTTP_FIELDS = ['status', 'dns_ms', 'connect_ms', 'tls_ms', 'ttfb_ms', 'total_ms', 'size_bytes', 'cert_days_left', 'redirects'] as const;
export const DEFAULT_MAX_BODY = 1024 * 1024;
/** Bytes of the body shown in the run's output (the UI), when no check needs more. */
const OUTPUT_BODY_BYTES = 4096;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * budgetMs is how long a run may take before the block itself gives up: a little less than
 * the run's timeout (the engine's, which would drop the result), so a timeout still says
 * in which phase it happened and keeps the timings measured so far.
 */
export function budgetMs(o: Pick<HttpOptions, 'every' | 'timeout'>): { budget: number; timeoutMs: number } {
  const every = (o.every && parseDuration(o.every)) || DEFAULT_EVERY_MS;
  const timeoutMs = (o.timeout && parseDuration(o.timeout)) || Math.min(DEFAULT_TIMEOUT_MS, every);
  const margin = Math.min(250, Math.max(10, timeoutMs * 0.05));
  return { budget: Math.max(1, timeoutMs - margin), timeoutMs };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** decodeBody undoes a Content-Encoding the server applied (only when the user asked for one). */
function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    default:
      return body;
  }
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

let sharedContext: tls.SecureContext | undefined;

/**
 * defaultContext is one TLS context (the system's trusted roots) for every block without
 * `ca`. Without it each connection builds its own, which costs more CPU than the rest of a
 * probe. Connections and handshakes stay new: a client resumes a TLS session only when
 * given one, and remon never does.
 */
function defaultContext(): tls.SecureContext {
  sharedContext ??= tls.createSecureContext();
  return sharedContext;
}

class HttpBlock implements BlockInstance {
  private readonly url: URL;
  private readonly method: string;
  private readonly headers: Record<string, string>;
  private readonly body?: Buffer;
  private readonly expect: Expect;
  private readonly follow: boolean;
  private readonly maxRedirects: number;
  private readonly keepBytes: number;
  private readonly budget: number;
  private readonly timeoutText: string;
  private ca?: { mtimeMs: number; context: tls.SecureContext };

  constructor(private readonly o: HttpOptions, private readonly configDir: string) {
    this.url = new URL(o.url);
    this.method = o.method ?? 'GET';
    const headers: Record<string, string> = { 'user-agent': 'remon' };
    if (o.body !== undefined && typeof o.body !== 'string') headers['content-type'] = 'application/json';
    if (o.basic_auth) headers.authorization = `Basic ${Buffer.from(`${o.basic_auth.username}:${o.basic_auth.password ?? ''}`).toString('base64')}`;
    if (o.bearer_token !== undefined) headers.authorization = `Bearer ${o.bearer_token}`;
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
    this.headers = headers;
    if (o.body !== undefined) this.body = Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
    const compiled = Expect.compile(o.expect);
    if (!compiled.expect) throw new Error(compiled.problems.map(([p, m]) => `${p}: ${m}`).join('; '));
    this.expect = compiled.expect;
    this.follow = o.follow_redirects ?? true;
    this.maxRedirects = o.max_redirects ?? DEFAULT_MAX_REDIRECTS;
    this.keepBytes = this.expect.needsBody ? o.max_body ?? DEFAULT_MAX_BODY : Math.min(OUTPUT_BODY_BYTES, o.max_body ?? DEFAULT_MAX_BODY);
    const { budget, timeoutMs } = budgetMs(o);
    this.budget = budget;
    this.timeoutText = formatDuration(timeoutMs);
  }

  /**
   * secureContext trusts `ca` besides the system's roots. It is built once and again only
   * when the file changes, so a renewed CA is picked up without a restart.
   */
  private secureContext(): tls.SecureContext | undefined {
    if (!this.o.ca) return defaultContext();
    const file = path.resolve(this.configDir, this.o.ca);
    const stat = fs.statSync(file);
    if (this.ca && this.ca.mtimeMs === stat.mtimeMs) return this.ca.context;
    const pem = fs.readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate (-----BEGIN CERTIFICATE-----) in it');
    const context = tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
    this.ca = { mtimeMs: stat.mtimeMs, context };
    return context;
  }

  async run(ctx: RunContext): Promise<RunOutput> {
    const start = performance.now();
    const deadline = start + this.budget;
    let secureContext: tls.SecureContext | undefined;
    try {
      secureContext = this.secureContext();
    } catch (err) {
      return { ok: false, message: `cannot use ca ${this.o.ca}: ${(err as Error).message}` };
    }
    let url = this.url;
    let method = this.method;
    let body = this.body;
    const headers = { ...this.headers };
    const chain: string[] = [];
    let redirects = 0;
    let last: HopResult;
    let error: string | undefined;
    for (;;) {
      last = await hop({
        url, method, headers, body, secureContext,
        tlsVerify: this.o.tls_verify ?? true,
        keepBytes: this.keepBytes,
        stopAtHeaders: this.follow ? (status, header) => REDIRECTS.has(status) && header('location') !== undefined : undefined,
        deadline,
        timeoutText: this.timeoutText,
        signal: ctx.signal,
      });
      if (last.error !== undefined) {
        error = last.error;
        break;
      }
      const status = last.status ?? 0;
      const location = this.follow && REDIRECTS.has(status) ? last.header?.('location') : undefined;
      if (location === undefined) break;
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        error = `status ${status} redirects to an invalid URL: ${JSON.stringify(location)}`;
        break;
      }
      chain.push(`${status} → ${next.href}`);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        error = `status ${status} redirects to ${next.href}, which is not http(s)`;
        break;
      }
      if (redirects >= this.maxRedirects) {
        error = `too many redirects (more than ${this.maxRedirects}); the last one, status ${status}, went to ${next.href}`;
        break;
      }
      redirects++;
      // Like browsers: 303 (and 301/302 after a POST) turn into a GET without a body.
      if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      // Credentials go only to the origin they were given for.
      if (next.origin !== url.origin) {
        delete headers.authorization;
        delete headers.cookie;
      }
      url = next;
    }
    const fields = this.fields(last, start, redirects);
    const output = this.output(last, chain);
    if (error !== undefined) return { ok: false, fields, message: error, output };

    let text: string | undefined;
    if (this.expect.needsBody) {
      try {
        const raw = last.body ?? Buffer.alloc(0);
        text = (last.truncated ? raw : decodeBody(raw, last.header?.('content-encoding'))).toString('utf8');
      } catch (err) {
        return { ok: false, fields, message: `cannot decode the ${last.header?.('content-encoding')} body: ${(err as Error).message}`, output };
      }
    }
    const failures = this.expect.failures({
      status: last.status ?? 0,
      header: last.header ?? (() => undefined),
      body: text,
      cut: last.truncated ? { kept: last.body?.length ?? 0, size: last.size } : undefined,
      totalMs: fields.total_ms,
      certDaysLeft: fields.cert_days_left,
    });
    return failures.length > 0 ? { ok: false, fields, message: failures.join('; '), output } : { ok: true, fields, output };
  }

  /** fields: what the last hop gave, named as in HTTP_FIELDS. */
  private fields(h: HopResult, start: number, redirects: number): Record<string, number> {
    const f: Record<string, number> = {};
    if (h.status !== undefined) f.status = h.status;
    if (h.dnsMs !== undefined) f.dns_ms = h.dnsMs;
    if (h.connectMs !== undefined) f.connect_ms = h.connectMs;
    if (h.tlsMs !== undefined) f.tls_ms = h.tlsMs;
    if (h.ttfbMs !== undefined) f.ttfb_ms = h.ttfbMs;
    f.total_ms = round3(h.endedAt - start);
    if (h.status !== undefined) f.size_bytes = h.size;
    if (h.certValidTo !== undefined) f.cert_days_left = round3((h.certValidTo - Date.now()) / 86_400_000);
    f.redirects = redirects;
    return f;
  }

  /** output is what the UI shows: the redirects, the status line, headers and the start of the body. */
  private output(h: HopResult, chain: string[]): string {
    const lines = chain.map((c) => `→ redirect ${c}`);
    if (h.status !== undefined) {
      lines.push(`HTTP/${h.httpVersion ?? '1.1'} ${h.status} ${h.statusMessage ?? ''}`.trimEnd());
      const raw = h.rawHeaders ?? [];
      for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
      if (h.body && h.body.length > 0) {
        const shown = h.body.subarray(0, OUTPUT_BODY_BYTES).toString('utf8');
        const more = h.size - Math.min(h.body.length, OUTPUT_BODY_BYTES);
        lines.push('', shown + (more > 0 ? `\n[… ${more} more bytes]` : ''));
      }
    }
    return lines.join('\n');
  }
}

const textMatch = (what: string): JsonSchema => ({
  type: ['string', 'object'],
  'x-expected': `text the ${what} must contain, or {regex: "..."}`,
  additionalProperties: false,
  required: ['regex'],
  properties: { regex: { type: 'string', minLength: 1, 'x-expected': 'a regular expression' } },
});

const statusItem: JsonSchema = {
  type: ['integer', 'string'],
  minimum: 100,
  maximum: 599,
  pattern: '^\\s*(?:[1-5][xX][xX]|[1-5]\\d\\d(?:\\s*-\\s*[1-5]\\d\\d)?)\\s*$',
  'x-expected': 'a status like 200, "2xx" or "200-299"',
};

/** httpBlock requests a URL and checks the response: status, body, JSON, headers, time, certificate. */
export const httpBlock: BlockType<HttpOptions> = {
  type: 'http',
  description: 'Request a URL on a fresh connection; fields are the status, phase timings, size and certificate days left; expect: checks the response.',
  schema: {
    required: ['url'],
    properties: {
      url: {
        type: 'string',
        pattern: '^https?://[^\\s/?#]+[^\\s]*$',
        'x-expected': 'an http:// or https:// URL, e.g. https://example.com/health',
        description: 'The URL to request.',
      },
      method: { enum: METHODS, description: 'HTTP method (default GET).' },
      headers: {
        type: 'object',
        'x-expected': 'a mapping of header names to values',
        additionalProperties: { type: 'string', 'x-expected': 'a header value (text)' },
        description: 'Request headers.',
      },
      body: {
        type: ['string', 'object', 'array'],
        'x-expected': 'text, or a mapping or list sent as JSON',
        description: 'Request body: text as is, a mapping or list as JSON (with content-type: application/json).',
      },
      basic_auth: {
        type: 'object',
        additionalProperties: false,
        required: ['username'],
        'x-expected': 'a mapping with username and password',
        properties: {
          username: { type: 'string', 'x-expected': 'a user name (text)' },
          password: { type: 'string', 'x-expected': 'a password (text); quote it if it looks like a number' },
        },
        description: 'HTTP basic authentication.',
      },
      bearer_token: { type: 'string', minLength: 1, 'x-expected': 'a token (text)', description: 'Sent as "Authorization: Bearer <token>".' },
      follow_redirects: { type: 'boolean', 'x-expected': 'true or false', description: 'Follow 301/302/303/307/308 (default true).' },
      max_redirects: { type: 'integer', minimum: 0, maximum: 50, description: 'Redirects followed at most; one more fails the run (default 5).' },
      tls_verify: { type: 'boolean', 'x-expected': 'true or false', description: 'Verify the server certificate (default true).' },
      ca: { type: 'string', minLength: 1, 'x-expected': 'the path of a PEM file', description: 'PEM file of CA certificates trusted besides the system ones, relative to monitor.yaml.' },
      max_body: { type: 'integer', minimum: 1, maximum: 268435456, description: 'Bytes of the body kept for expect: checks (default 1048576); size_bytes counts all of it.' },
      expect: {
        type: 'object',
        additionalProperties: false,
        'x-expected': 'a mapping with status, body, headers, json, max_ms or cert_min_days',
        description: 'Checks on the response; any failing one fails the run with a message saying what it saw.',
        properties: {
          status: {
            ...statusItem,
            type: ['integer', 'string', 'array'],
            minItems: 1,
            items: statusItem,
            'x-expected': 'a status like 200, "2xx" or "200-299", or a list of them',
            description: 'Expected status: 200, "2xx", "200-299" or a list (default ["2xx", "3xx"]).',
          },
          body: { ...textMatch('body'), description: 'Text the body must contain, or {regex}.' },
          headers: {
            type: 'object',
            'x-expected': 'a mapping of header names to text they must contain or {regex: "..."}',
            additionalProperties: textMatch('header'),
            description: 'Response headers (names in any case) and text each must contain, or {regex}.',
          },
          json: {
            type: 'object',
            minProperties: 1,
            'x-expected': 'a mapping of JSON paths to expected values, e.g. {"$.status": "ok", "$.count": ">= 3"}',
            additionalProperties: { type: ['string', 'number', 'boolean', 'null'], 'x-expected': 'a value, or a comparison like ">= 3", "!= down", "=~ ^ok"' },
            description: 'JSON path → value ("ok", 3, true, null) or comparison (">= 3", "!= down", "=~ regex").',
          },
          max_ms: { type: 'number', exclusiveMinimum: 0, description: 'total_ms must be at most this.' },
          cert_min_days: { type: 'number', description: 'https: the certificate must have at least this many days left.' },
        },
      },
    },
  },
  check(o) {
    const problems: Array<[string, string]> = [];
    try {
      const u = new URL(o.url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(['url', `expected an http:// or https:// URL; got ${JSON.stringify(o.url)}`]);
    } catch {
      problems.push(['url', `is not a valid URL: ${JSON.stringify(o.url)}`]);
    }
    for (const [name, value] of Object.entries(o.headers ?? {})) {
      if (!HEADER_NAME.test(name)) problems.push(['headers', `"${name}" is not a valid header name (letters, digits and !#$%&'*+.^_\`|~-)`]);
      else if (/[\r\n\0]/.test(value)) problems.push([`headers.${name}`, 'must not contain line breaks']);
    }
    const authHeader = Object.keys(o.headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
    if (o.basic_auth && o.bearer_token !== undefined) problems.push(['bearer_token', 'use either basic_auth or bearer_token, not both']);
    else if (authHeader && (o.basic_auth || o.bearer_token !== undefined)) {
      problems.push([o.basic_auth ? 'basic_auth' : 'bearer_token', 'headers already has an Authorization header; use one of them']);
    }
    if (o.basic_auth && o.basic_auth.username.includes(':')) problems.push(['basic_auth.username', 'must not contain ":" (basic authentication separates user and password with it)']);
    if (o.follow_redirects === false && o.max_redirects !== undefined) problems.push(['max_redirects', 'has no effect with follow_redirects: false; remove one of them']);
    if (o.tls_verify === false && o.ca !== undefined) problems.push(['ca', 'has no effect with tls_verify: false; remove one of them']);
    if (o.method === 'HEAD' && o.body !== undefined) problems.push(['body', 'a HEAD request has no body; use another method or remove body']);
    const compiled = Expect.compile(o.expect);
    problems.push(...compiled.problems);
    if (o.method === 'HEAD' && (o.expect?.body !== undefined || o.expect?.json !== undefined)) {
      problems.push([o.expect?.body !== undefined ? 'expect.body' : 'expect.json', 'a HEAD response has no body to check; use GET']);
    }
    return problems;
  },
  fields: () => HTTP_FIELDS,
  create(o, env) {
    return new HttpBlock(o, env.configDir);
  },
};
