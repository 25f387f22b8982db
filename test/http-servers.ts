/**
 * Local HTTP(S) servers and certificates for the http block's tests and benchmark. Every
 * server listens on 127.0.0.1 on a port the kernel picks, and close() ends its open
 * connections too, so a test never waits for a client that hangs on.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface TestServer {
  port: number;
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Requests seen, in order. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

/** track remembers a server's sockets so close() can end them. */
function track(server: net.Server): () => void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () => sockets.forEach((s) => s.destroy());
}

/** startHttpServer runs handler for each request (the request body already read). */
export async function startHttpServer(handler: Handler, tlsOptions?: { cert: string; key: string }): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  };
  const server = tlsOptions ? https.createServer(tlsOptions, onRequest) : http.createServer(onRequest);
  // Clients that do not complete a TLS handshake must not crash the test process.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_e, socket) => socket.destroy());
  const endAll = track(server);
  const port = await listen(server);
  return {
    port,
    url: `${tlsOptions ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      endAll();
      server.close(() => resolve());
    }),
  };
}

/** startSilentServer accepts TCP connections and never answers (nor closes them). */
export async function startSilentServer(): Promise<TestServer> {
  const server = net.createServer(() => undefined);
  const endAll = track(server);
  const port = await listen(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests: [],
    close: () => new Promise<void>((resolve) => {
      endAll();
      server.close(() => resolve());
    }),
  };
}

/** closedPort returns a loopback port nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface CertFiles {
  dir: string;
  /** A self-signed certificate for 127.0.0.1 and localhost, valid selfDays days. */
  selfCert: string;
  selfKey: string;
  /** A CA (its certificate is caCert) and a certificate it signed for 127.0.0.1, valid leafDays days. */
  caCert: string;
  leafCert: string;
  leafKey: string;
  /** The certificates' expiry, epoch ms, as X509Certificate reads it. */
  selfValidTo: number;
  leafValidTo: number;
}

/** hasOpenssl tells whether the openssl CLI can be run. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * makeCerts generates, with the openssl CLI, a self-signed certificate and a small CA with
 * a certificate it signed, all with subjectAltName IP:127.0.0.1 and DNS:localhost.
 */
export function makeCerts(dir: string, selfDays = 30, leafDays = 45): CertFiles {
  const f = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('self.key'), '-out', f('self.pem'), '-days', String(selfDays), '-subj', '/CN=remon-test-self', '-addext', san);
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '365', '-subj', '/CN=remon-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-new', ...ec, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('leaf.ext'), `${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('leaf.pem'),
    '-days', String(leafDays), '-extfile', f('leaf.ext'));
  const validTo = (file: string): number => Date.parse(new X509Certificate(fs.readFileSync(file)).validTo);
  return {
    dir,
    selfCert: f('self.pem'),
    selfKey: f('self.key'),
    caCert: f('ca.pem'),
    leafCert: f('leaf.pem'),
    leafKey: f('leaf.key'),
    selfValidTo: validTo(f('self.pem')),
    leafValidTo: validTo(f('leaf.pem')),
  };
}
