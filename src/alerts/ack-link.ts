import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createError } from '../errors';
import type { Alert } from './types';

/** LinkClaim is what an ack link carries: the alert, a nonce (single use), the expiry. */
export interface LinkClaim {
  alert: string;
  nonce: string;
  expires: number;
}

/**
 * loadKey reads the HMAC key of ack links from node.data/alerts/ack-link.key, making it
 * (32 random bytes, mode 0600) on first use. A new key voids every link made before.
 */
export function loadKey(dir: string): Buffer {
  const file = path.join(dir, 'ack-link.key');
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${key.toString('hex')}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return key;
}

const b64 = (b: Buffer): string => b.toString('base64url');

/**
 * AckLinks signs and checks the links in notifications that acknowledge an alert without
 * a login: `/ack/<alert>.<nonce>.<expiry>.<HMAC-SHA256 of the three>`. Only this node can
 * make one; what it allows is acknowledging that alert, once, until it expires.
 */
export class AckLinks {
  constructor(private readonly key: Buffer) {}

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, 20);
  }

  /** sign makes the token of a new link for an alert. */
  sign(alert: string, expires: number): string {
    const body = `${alert}.${b64(randomBytes(9))}.${Math.floor(expires / 1000).toString(36)}`;
    return `${body}.${b64(this.mac(body))}`;
  }

  /** verify checks a token's signature and expiry at `now`; REMON_ERR_ALERT_LINK says why not. */
  verify(token: string, now: number): LinkClaim {
    const m = /^([A-Za-z0-9_-]{1,40})\.([A-Za-z0-9_-]{12})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{27})$/.exec(token);
    if (!m) throw createError('REMON_ERR_ALERT_LINK', 'this is not an ack link of this node');
    // Compared as text: base64url has several spellings of the same bytes (the last
    // character's spare bits), and a link has one.
    const got = Buffer.from(m[4]);
    const want = Buffer.from(b64(this.mac(`${m[1]}.${m[2]}.${m[3]}`)));
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw createError('REMON_ERR_ALERT_LINK', 'this ack link is not signed by this node (or its key changed)');
    const expires = parseInt(m[3], 36) * 1000;
    if (now >= expires) throw createError('REMON_ERR_ALERT_LINK', `this ack link expired at ${new Date(expires).toISOString()}; acknowledge with remon alerts ack ${m[1]}`);
    return { alert: m[1], nonce: m[2], expires };
  }
}

/**
 * linkedAlert is the alert a verified link would acknowledge now: kept by this node, the
 * link not used on it yet, the alert not resolved; REMON_ERR_ALERT_LINK says why not.
 */
export function linkedAlert(claim: LinkClaim, alerts: ReadonlyMap<string, Alert>): Alert {
  const a = alerts.get(claim.alert);
  if (!a) throw createError('REMON_ERR_ALERT_LINK', `alert ${claim.alert} is no longer kept by this node`);
  if (a.links.has(claim.nonce)) throw createError('REMON_ERR_ALERT_LINK', `this ack link was used already; alert ${a.id} is ${a.state}`);
  if (a.state === 'resolved') throw createError('REMON_ERR_ALERT_LINK', `alert ${a.id} is resolved; there is nothing to acknowledge`);
  return a;
}
