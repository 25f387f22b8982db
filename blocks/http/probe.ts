/**
 * One HTTP request on a fresh connection, timed from the socket's own events:
 *
 *   start ─lookup→ dns_ms ─connect→ connect_ms ─secureConnect→ tls_ms ─response→ ttfb_ms ─end→
 *
 * Each phase is its own duration (not cumulative, like a browser's network panel), so they
 * stack up to the request's total. A new socket per request (no agent, no keep-alive pool)
 * makes connect and TLS times real on every run.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import * as net from 'node:net';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';

/** HopRequest is one request of a probe (a redirect makes another). */
export interface HopRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** TLS: verify the server's certificate chain and name. */
  tlsVerify: boolean;
  secureContext?: SecureContext;
  /** Bytes of the body to keep. */
  keepBytes: number;
  /** Called with the status and a header reader; true stops there (a redirect to follow): the body is not read. */
  stopAtHeaders?: (status: number, header: (name: string) => string | undefined) => boolean;
  /** performance.now() time at which the request gives up. */
  deadline: number;
  /** The configured timeout as the user wrote it, for the message. */
  timeoutText: string;
  signal: AbortSignal;
}

/** HopResult is what one request gave; `error` is set when it failed. */
export interface HopResult {
  error?: string;
  status?: number;
  statusMessage?: string;
  httpVersion?: string;
  /** header reads a response header by lower-case name (repeats joined with ", "). */
  header?: (name: string) => string | undefined;
  rawHeaders?: string[];
  body?: Buffer;
  /** Body bytes received (all of them, not only those kept). */
  size: number;
  truncated: boolean;
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
  ttfbMs?: number;
  /** Expiry of the server's certificate, epoch ms (https). */
  certValidTo?: number;
  startedAt: number;
  endedAt: number;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** hop makes one request and resolves when it is done; it never rejects. */
export function hop(r: HopRequest): Promise<HopResult> {
  return new Promise<HopResult>((resolve) => {
    const https_ = r.url.protocol === 'https:';
    const port = r.url.port || (https_ ? 443 : 80);
    const target = `${r.url.hostname}:${port}`;
    const t0 = performance.now();
    const out: HopResult = { size: 0, truncated: false, startedAt: t0, endedAt: t0 };
    let tLookup: number | undefined;
    let tConnect: number | undefined;
    let tSecure: number | undefined;
    let tResponse: number | undefined;
    let lookedUp: string | undefined;
    let sock: Socket | undefined;
    // Who we talk to, for messages: the connected address, else the looked-up one, else the URL's.
    // (Read only when a message needs it: socket.remoteAddress costs a system call.)
    const peer = (): string => {
      const a = sock?.remoteAddress;
      if (a) return hostPort(a, sock!.remotePort ?? port);
      return lookedUp ? hostPort(lookedUp, port) : target;
    };
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let res: http.IncomingMessage | undefined;
    let settled = false;

    const phase = (): string => {
      if (res) return `reading the body (status ${res.statusCode}, ${out.size} bytes so far)`;
      if (tConnect === undefined) {
        return tLookup === undefined && !isIpLiteral(r.url.hostname) ? `resolving ${r.url.hostname}` : `connecting to ${peer()}`;
      }
      if (https_ && tSecure === undefined) return `in the TLS handshake with ${peer()}`;
      return 'waiting for the response (request sent)';
    };

    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.signal.removeEventListener('abort', onAbort);
      out.endedAt = performance.now();
      const connectFrom = tLookup ?? t0;
      if (tLookup !== undefined) out.dnsMs = round3(tLookup - t0);
      else if (tConnect !== undefined) out.dnsMs = 0;
      if (tConnect !== undefined) out.connectMs = round3(tConnect - connectFrom);
      if (tSecure !== undefined && tConnect !== undefined) out.tlsMs = round3(tSecure - tConnect);
      const sent = tSecure ?? tConnect;
      if (tResponse !== undefined && sent !== undefined) out.ttfbMs = round3(tResponse - sent);
      if (kept.length > 0) out.body = Buffer.concat(kept);
      if (error !== undefined) out.error = error;
      resolve(out);
    };

    const fail = (why: string): void => {
      if (settled) return;
      req.destroy();
      res?.destroy();
      finish(why);
    };

    const onAbort = (): void => {
      const reason: unknown = r.signal.reason;
      const why = reason instanceof Error && reason.message ? reason.message : typeof reason === 'string' ? reason : 'aborted';
      fail(`${why} (${phase()})`);
    };

    // No agent at all: the request gets its own socket from createConnection and sends
    // "Connection: close". (agent: false would do the same with a throw-away Agent per
    // request, which costs more than the rest of a plain-HTTP probe.) secureContext goes on
    // to tls.connect; the typings leave it out of RequestOptions.
    const options: https.RequestOptions & { secureContext?: SecureContext } = {
      method: r.method,
      headers: r.headers,
      port,
      defaultPort: https_ ? 443 : 80,
      createConnection: https_ ? connectTls(r) : connectTcp,
    };
    if (https_) {
      options.rejectUnauthorized = r.tlsVerify;
      if (r.secureContext) options.secureContext = r.secureContext;
    }
    const req = (https_ ? https : http).request(r.url, options);
    const timer = setTimeout(() => fail(`timed out after ${r.timeoutText} ${phase()}`), Math.max(0, r.deadline - t0));
    if (r.signal.aborted) {
      onAbort();
      return;
    }
    r.signal.addEventListener('abort', onAbort, { once: true });

    // Plain on(), not once(): each socket serves this one request and is then destroyed.
    req.on('socket', (socket: Socket) => {
      sock = socket;
      socket.on('lookup', (err: Error | null, address: string) => {
        tLookup ??= performance.now();
        if (!err && address) lookedUp = address;
      });
      socket.on('connect', () => {
        tConnect = performance.now();
      });
      if (https_) {
        socket.on('secureConnect', () => {
          tSecure = performance.now();
          // The X509Certificate is cheaper than getPeerCertificate(), which hashes three fingerprints.
          const cert = (socket as TLSSocket).getPeerX509Certificate();
          const validTo = cert ? Date.parse(cert.validTo) : NaN;
          if (Number.isFinite(validTo)) out.certValidTo = validTo;
        });
      }
    });

    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      finish(describeError(err, peer(), r.url.hostname, res !== undefined, out.size));
    });

    req.on('response', (response) => {
      tResponse = performance.now();
      res = response;
      out.status = response.statusCode;
      out.statusMessage = response.statusMessage;
      out.httpVersion = response.httpVersion;
      out.rawHeaders = response.rawHeaders;
      // From rawHeaders: Node's response.headers object is built on first use, at a cost.
      const header = (name: string): string | undefined => headerOf(response.rawHeaders, name);
      out.header = header;
      if (r.stopAtHeaders?.(response.statusCode ?? 0, header)) {
        // A redirect to follow: its body is of no interest, and its connection is not reused.
        response.destroy();
        req.destroy();
        finish();
        return;
      }
      response.on('data', (chunk: Buffer) => {
        out.size += chunk.length;
        const room = r.keepBytes - keptBytes;
        if (room <= 0) {
          out.truncated = true;
          return;
        }
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (part.length < chunk.length) out.truncated = true;
        kept.push(part);
        keptBytes += part.length;
      });
      response.on('end', () => finish());
      response.on('error', () => undefined); // 'close' below says what happened
      response.on('close', () => {
        if (settled) return;
        if (response.complete) return finish();
        const length = Number(header('content-length'));
        const of = Number.isFinite(length) ? ` of ${length}` : '';
        finish(`connection closed by ${peer()} after ${out.size}${of} bytes of the body (status ${response.statusCode})`);
      });
    });

    req.end(r.body);
  });
}

// Node passes the request's options (host, port, TLS options) on to the connection.
const connectTcp = (opts: http.ClientRequestArgs): net.Socket => net.createConnection(opts as net.NetConnectOpts);

/** connectTls makes a TLS connection as Node's https Agent would: SNI is the host name, never an IP address. */
function connectTls(r: HopRequest): (opts: http.ClientRequestArgs) => tls.TLSSocket {
  const host = r.url.hostname.replace(/^\[|\]$/g, '');
  const servername = net.isIP(host) ? undefined : host;
  return (opts) => tls.connect({ ...(opts as tls.ConnectionOptions), servername });
}

/** headerOf finds a header in Node's rawHeaders ([name, value, ...]); repeats are joined with ", ". */
export function headerOf(raw: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) found = found === undefined ? raw[i + 1] : `${found}, ${raw[i + 1]}`;
  }
  return found;
}

/** hostPort writes an address and port, IPv6 in brackets. */
function hostPort(address: string, port: number | string): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** isIpLiteral tells whether a URL hostname needs no DNS lookup (IPv6 comes in brackets). */
function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || net.isIP(host) !== 0;
}

const TLS_HINTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed; trust it with ca: or set tls_verify: false",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's chain ends in an untrusted self-signed certificate; trust its root with ca: or set tls_verify: false",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is signed by an unknown issuer; trust the issuer with ca: or set tls_verify: false",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by an unknown issuer; trust the issuer with ca: or set tls_verify: false",
  UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is signed by an unknown issuer; trust the issuer with ca: or set tls_verify: false",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
};

/** describeError words a request error for a user: what failed, with whom, and the code. */
export function describeError(err: NodeJS.ErrnoException, target: string, host: string, gotResponse: boolean, size: number): string {
  const code = err.code ?? '';
  if (TLS_HINTS[code]) return `TLS: ${TLS_HINTS[code]} (${code})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: ${err.message} (${code})`;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /ssl|tls/i.test(err.message) && !code) return `TLS: ${err.message}${code ? ` (${code})` : ''}`;
  if (code.startsWith('HPE_')) return `bad HTTP response from ${target}: ${err.message} (${code})`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return `cannot resolve ${host} (${code})`;
    case 'ECONNREFUSED':
      return `connection refused by ${target}`;
    case 'ECONNRESET':
      if (gotResponse) return `connection reset by ${target} after ${size} bytes of the body`;
      return err.message === 'socket hang up' ? `connection closed by ${target} before a response` : `connection reset by ${target} before a response`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
    case 'EADDRNOTAVAIL':
      return `cannot connect to ${target} (${code})`;
    default:
      return `${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`;
  }
}
