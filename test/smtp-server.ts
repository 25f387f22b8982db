/**
 * A real SMTP server for the e-mail notifier's tests: Debian's python3-aiosmtpd, started
 * on a free loopback port with its Mailbox handler, which writes each message it accepts
 * into a Maildir the test reads. Debian's /usr/bin/python3 is used: a python3 first on
 * PATH may be another build that does not see Debian's modules.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort, stopChild, tmpDir, waitFor } from './helpers';

const PYTHON = '/usr/bin/python3';

/** hasAiosmtpd tells whether Debian's python3 can import aiosmtpd. */
export function hasAiosmtpd(): boolean {
  return spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
}

/** Mail is one message the server accepted, headers by lower-case name, the body decoded. */
export interface Mail {
  headers: Record<string, string>;
  text: string;
}

export interface SmtpServer {
  host: string;
  port: number;
  /** messages reads what the server accepted so far, oldest first. */
  messages(): Mail[];
  stop(): Promise<void>;
}

/** decodeQuotedPrintable undoes RFC 2045 quoted-printable (soft line breaks, =XX bytes). */
function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** parseMail reads a single-part message as nodemailer writes a text mail. */
export function parseMail(raw: string): Mail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const cte = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  const text = cte === 'quoted-printable' ? decodeQuotedPrintable(body) : cte === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { headers, text: text.replace(/\r\n/g, '\n') };
}

/** startSmtpServer runs aiosmtpd on 127.0.0.1 and resolves once it accepts connections. */
export async function startSmtpServer(): Promise<SmtpServer> {
  const port = await freePort();
  const maildir = path.join(tmpDir('remon-smtp-'), 'mail');
  let out = '';
  const child: ChildProcess = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const accepts = (): Promise<boolean> => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
  try {
    await waitFor(async () => child.exitCode === null && (await accepts()), 10_000, `aiosmtpd on port ${port}`);
  } catch (err) {
    await stopChild(child, 1000);
    throw new Error(`${(err as Error).message}; its output: ${out}`);
  }
  return {
    host: '127.0.0.1',
    port,
    messages() {
      const dir = path.join(maildir, 'new');
      if (!fs.existsSync(dir)) return [];
      // Maildir names start with the delivery time in seconds; the file's mtime orders within one.
      const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
      files.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs || a.localeCompare(b));
      return files.map((f) => parseMail(fs.readFileSync(f, 'utf8')));
    },
    stop: () => stopChild(child, 2000),
  };
}
