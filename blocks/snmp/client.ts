/**
 * SnmpClient wraps one net-snmp session (one UDP socket) for one block: GET of a list of
 * OIDs and a walk of table columns (GETBULK on v2c/v3, GETNEXT on v1). Errors come out as
 * SnmpError with a message a user can act on; varbind-level problems (noSuchObject,
 * noSuchName) are returned per OID so the other values still count.
 */
import * as snmp from 'net-snmp';
import { formatDuration } from '../../src/util/duration';
import { compareOids } from './oids';

export type SnmpVersion = 1 | '2c' | 3;

/** ClientOptions says whom to ask and how. */
export interface ClientOptions {
  host: string;
  port: number;
  version: SnmpVersion;
  community: string;
  user?: { name: string; authProtocol?: string; authKey?: string; privProtocol?: string; privKey?: string };
  context?: string;
  timeoutMs: number;
  retries: number;
  maxRepetitions: number;
}

/** SnmpError is a failed request, worded for a user (without the host prefix). */
export class SnmpError extends Error {
  /**
   * retryable: the session is reset after it. agentStatus/oid: the error-status the agent
   * answered (e.g. NoSuchName) and the OID it named.
   */
  constructor(message: string, readonly retryable = true, readonly agentStatus?: string, readonly oid?: string) {
    super(message);
    this.name = 'SnmpError';
  }
}

/** ResponseInvalidCode.ENotInTimeWindow (newer than the typings). */
const NOT_IN_TIME_WINDOW = 14;
/** GET_CHUNK: OIDs per GET request, well under what agents answer without tooBig. */
const GET_CHUNK = 32;
/** A walk stops after this many rows per column, against an agent that never ends one. */
const MAX_ROWS = 100_000;

const AUTH: Record<string, snmp.AuthProtocols> = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha224: snmp.AuthProtocols.sha224,
  sha256: snmp.AuthProtocols.sha256,
  sha384: snmp.AuthProtocols.sha384,
  sha512: snmp.AuthProtocols.sha512,
};
const PRIV: Record<string, snmp.PrivProtocols> = {
  des: snmp.PrivProtocols.des,
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
};

/** isVarbindMissing tells whether a varbind says "no value" (v2c/v3 exceptions). */
function missingWhy(vb: snmp.Varbind): string | undefined {
  switch (vb.type) {
    case snmp.ObjectType.NoSuchObject:
      return 'no such object';
    case snmp.ObjectType.NoSuchInstance:
      return 'no such instance';
    case snmp.ObjectType.EndOfMibView:
      return 'end of MIB view';
    default:
      return undefined;
  }
}

export class SnmpClient {
  private session?: snmp.Session;
  private sessionError?: Error;

  constructor(private readonly o: ClientOptions) {}

  private open(): snmp.Session {
    if (this.session) return this.session;
    const o = this.o;
    const transport = o.host.includes(':') ? 'udp6' : 'udp4';
    let session: snmp.Session;
    if (o.version === 3) {
      const u = o.user!;
      const level = u.privKey ? snmp.SecurityLevel.authPriv : u.authKey ? snmp.SecurityLevel.authNoPriv : snmp.SecurityLevel.noAuthNoPriv;
      const user: snmp.User = { name: u.name, level };
      if (u.authKey) Object.assign(user, { authProtocol: AUTH[u.authProtocol ?? 'sha'], authKey: u.authKey });
      if (u.privKey) Object.assign(user, { privProtocol: PRIV[u.privProtocol ?? 'aes'], privKey: u.privKey });
      session = snmp.createV3Session(o.host, user, {
        port: o.port, retries: o.retries, timeout: o.timeoutMs, transport, context: o.context ?? '', backoff: 1,
      });
    } else {
      session = snmp.createSession(o.host, o.community, {
        port: o.port, retries: o.retries, timeout: o.timeoutMs, transport, backoff: 1,
        version: o.version === 1 ? snmp.Version1 : snmp.Version2c,
      } as snmp.SessionOptions);
    }
    // A socket error (e.g. EHOSTUNREACH) fails the requests in flight; the next run opens a new session.
    session.on('error', (err: Error) => {
      this.sessionError = err;
      this.reset();
    });
    this.session = session;
    return session;
  }

  /** reset closes the session; the next request opens a fresh one (a new v3 discovery too). */
  reset(): void {
    const s = this.session;
    this.session = undefined;
    if (s) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  close(): void {
    this.reset();
  }

  /**
   * request runs one net-snmp call, cancelled by signal (which closes the session: net-snmp
   * cannot cancel one request). A failure other than a varbind problem resets the session,
   * so an agent that restarted (new v3 engine boots) is rediscovered next time.
   */
  private request<T>(signal: AbortSignal, call: (s: snmp.Session, cb: (err: Error | null, v?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(new SnmpError('aborted', false));
      const session = this.open();
      let done = false;
      const onAbort = (): void => {
        if (done) return;
        done = true;
        this.reset();
        reject(new SnmpError('aborted', false));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        call(session, (err, v) => {
          if (done) return;
          done = true;
          signal.removeEventListener('abort', onAbort);
          if (err) {
            const failed = this.translate(err);
            if (failed.retryable) this.reset();
            reject(failed);
          } else {
            resolve(v as T);
          }
        });
      } catch (err) {
        done = true;
        signal.removeEventListener('abort', onAbort);
        reject(new SnmpError(`cannot send the request: ${(err as Error).message}`));
      }
    });
  }

  /** translate words a net-snmp error. */
  private translate(err: Error & { code?: number; status?: number }): SnmpError {
    const o = this.o;
    const tries = o.retries + 1;
    const waited = `${tries} ${tries === 1 ? 'try' : 'tries'} of ${formatDuration(o.timeoutMs)}`;
    switch (err.name) {
      case 'RequestTimedOutError':
        if (o.version === 3) return new SnmpError(`no answer after ${waited} (no agent there, or a wrong priv_key: the agent drops what it cannot decrypt)`);
        return new SnmpError(`no answer after ${waited} (wrong community, or no agent there)`);
      case 'ResponseInvalidError':
        if (err.code === snmp.ResponseInvalidCode.EAuthFailure) {
          const user = o.user?.name ?? '';
          if (/Wrong Digest/i.test(err.message)) return new SnmpError('authentication failure (check auth_key and the user)');
          if (/Unknown User/i.test(err.message)) return new SnmpError(`unknown user ${JSON.stringify(user)} (check user)`);
          if (/Decryption/i.test(err.message)) return new SnmpError('decryption failure (check priv_key and priv_protocol)');
          if (/Security Level/i.test(err.message)) return new SnmpError(`the agent does not support this security level for user ${JSON.stringify(user)} (check auth_key and priv_key)`);
          if (/Time Window/i.test(err.message)) return new SnmpError('not in the time window (the agent restarted, or its clock jumped); retrying with a new session next run');
          return new SnmpError(`authentication failure: ${err.message}`);
        }
        if (err.code === NOT_IN_TIME_WINDOW) return new SnmpError('not in the time window (the agent restarted, or its clock jumped); retrying with a new session next run');
        return new SnmpError(`invalid response: ${err.message}`);
      case 'RequestFailedError': {
        // net-snmp words it "<ErrorStatus>: <oid>" (or just the status).
        const m = /^(\w+)(?:: (\S+))?$/.exec(err.message);
        const status = m?.[1] ?? err.message;
        return new SnmpError(`the agent answered ${status}${m?.[2] ? ` for ${m[2]}` : ''}`, false, status, m?.[2]);
      }
      default:
        if (this.sessionError && err.message === 'Socket forcibly closed') return new SnmpError(`socket error: ${this.sessionError.message}`);
        return new SnmpError(err.message);
    }
  }

  /**
   * get fetches OIDs. Values come back by OID; OIDs the agent has no value for are in
   * `missing` with the reason. On v1 a missing OID fails its whole request (noSuchName),
   * so it is dropped and the request repeated for the others.
   */
  async get(oids: string[], signal: AbortSignal): Promise<{ values: Map<string, snmp.Varbind>; missing: Map<string, string> }> {
    const values = new Map<string, snmp.Varbind>();
    const missing = new Map<string, string>();
    for (let i = 0; i < oids.length; i += GET_CHUNK) {
      let chunk = oids.slice(i, i + GET_CHUNK);
      while (chunk.length > 0) {
        try {
          const vbs = await this.request<snmp.Varbind[]>(signal, (s, cb) => s.get(chunk, cb));
          vbs.forEach((vb, j) => {
            const why = missingWhy(vb);
            if (why) missing.set(chunk[j], why);
            else values.set(chunk[j], vb);
          });
          break;
        } catch (err) {
          const bad = noSuchName(err);
          if (bad === undefined || !chunk.includes(bad)) throw err;
          missing.set(bad, 'no such name');
          chunk = chunk.filter((oid) => oid !== bad);
        }
      }
    }
    return { values, missing };
  }

  /**
   * walkColumns reads table columns side by side, the way snmptable does: one GETBULK (v2c,
   * v3; GETNEXT on v1) asks for the next rows of every column still going. Each column
   * ends at the first OID outside it. Rows come back by column, as [index, varbind].
   */
  async walkColumns(columns: string[], signal: AbortSignal): Promise<Map<string, Array<[string, snmp.Varbind]>>> {
    const rows = new Map<string, Array<[string, snmp.Varbind]>>(columns.map((c) => [c, []]));
    const position = new Map<string, string>(columns.map((c) => [c, c]));
    let active = [...columns];
    const bulk = this.o.version !== 1;
    while (active.length > 0) {
      const asked = active.map((c) => position.get(c)!);
      let answer: Array<snmp.Varbind | snmp.Varbind[]>;
      try {
        answer = bulk
          ? await this.request<Array<snmp.Varbind | snmp.Varbind[]>>(signal, (s, cb) => s.getBulk(asked, 0, this.o.maxRepetitions, cb))
          : await this.request<snmp.Varbind[]>(signal, (s, cb) => s.getNext(asked, cb));
      } catch (err) {
        // v1 says noSuchName for a GETNEXT past the end of the MIB: that column is done.
        const bad = noSuchName(err);
        const i = bad === undefined ? -1 : asked.indexOf(bad);
        if (i < 0) throw err;
        active = active.filter((_, j) => j !== i);
        continue;
      }
      const still: string[] = [];
      active.forEach((col, i) => {
        const got = answer[i];
        const list = Array.isArray(got) ? got : got ? [got] : [];
        const prefix = `${col}.`;
        let going = list.length > 0;
        for (const vb of list) {
          if (missingWhy(vb) || !vb.oid.startsWith(prefix) || compareOids(vb.oid, position.get(col)!) <= 0) {
            going = false;
            break;
          }
          rows.get(col)!.push([vb.oid.slice(prefix.length), vb]);
          position.set(col, vb.oid);
        }
        if (going && rows.get(col)!.length < MAX_ROWS) still.push(col);
      });
      active = still;
    }
    return rows;
  }
}

/** noSuchName returns the OID a v1 noSuchName error is about, if err is one. */
function noSuchName(err: unknown): string | undefined {
  return err instanceof SnmpError && err.agentStatus === 'NoSuchName' ? err.oid : undefined;
}
