import { createHash } from 'node:crypto';
import Redis, { Command } from 'ioredis';
import { BATCH_SCRIPT, OpName, OPS } from './redis-scripts';
import type { SpreadUnit } from './redis-spread';

/**
 * The wire form of a batch: one EVALSHA of BATCH_SCRIPT whose arguments are the operations
 * one after the other, each as name, key count, argument count, keys, arguments (see
 * redis-scripts.ts). The RESP text is gathered here as pieces (a spread unit brings its
 * own, written as its operations were made) and joined once, so a batch of a thousand
 * operations costs one string and one socket write, with no per-argument work in the
 * client library beyond it; ioredis still owns the connection (reconnects, timeouts, TLS,
 * AUTH) and parses the reply.
 */

const SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');

/** bulk is one RESP bulk string. */
const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** The counts 0..1023 as bulk strings, made once. */
const COUNTS = Array.from({ length: 1024 }, (_, i) => bulk(String(i)));
const count = (n: number): string => (n < 1024 ? COUNTS[n] : bulk(String(n)));
/** Bulk string headers ("$12\r\n") for lengths 0..1023, made once. */
const HEADERS = Array.from({ length: 1024 }, (_, i) => `$${i}\r\n`);

/** bulkOf is one RESP bulk string, as a concatenation. */
export function bulkOf(a: string): string {
  const n = Buffer.byteLength(a);
  return `${n < 1024 ? HEADERS[n] : `$${n}\r\n`}${a}\r\n`;
}

/**
 * pushBulk appends a string as RESP bulk pieces: its header, itself, CRLF (no string made
 * per argument: the batch's join makes one).
 */
export function pushBulk(pieces: string[], a: string): void {
  const n = Buffer.byteLength(a);
  pieces.push(n < 1024 ? HEADERS[n] : `$${n}\r\n`, a, '\r\n');
}

/** The pieces a batch's first unit, when a spread one, leaves at its start for the batch's own: head, pattern, prefix, its name and counts. */
export const LEAD = 6;

/** Each operation's name as a bulk string, made once. */
const NAMES = new Map<string, string>(Object.keys(OPS).map((name) => [name, bulk(name)]));

const EVALSHA_HEAD = `${bulk('EVALSHA')}${bulk(SHA)}${bulk('0')}`;
const EVAL_HEAD = `${bulk('EVAL')}${bulk(BATCH_SCRIPT)}${bulk('0')}`;

/** BatchText gathers the operations of one batch as RESP text. */
export class BatchText {
  /** The RESP pieces; the first is the command's head, set when it is made. */
  private pieces: string[];
  /** Arguments after the script's hash and key count. */
  private argc = 2;
  /** The text once joined, and the length of its head (an EVALSHA's). */
  private text?: string;
  private headLength = 0;

  /** watchPattern: the glob of this setup's watch channels, and prefix its key prefix (the script's first two arguments). */
  constructor(watchPattern: string, prefix: string) {
    this.pieces = ['', bulk(watchPattern), bulk(prefix)];
  }

  /** add appends one operation: its name, keys and arguments (numbers are sent as text). */
  add(name: OpName, keys: readonly string[], args: ReadonlyArray<string | number>): void {
    const p = this.pieces;
    p.push(NAMES.get(name)!, count(keys.length), count(args.length));
    for (let i = 0; i < keys.length; i++) pushBulk(p, keys[i]);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'number' && a >= 0 && a < 1024 && Number.isInteger(a)) p.push(COUNTS[a]);
      else pushBulk(p, typeof a === 'string' ? a : String(a));
    }
    this.argc += 3 + keys.length + args.length;
  }

  /**
   * addSpread appends a spread unit (see redis-spread.ts): its arguments as it wrote them,
   * then its shape. The unit hands its pieces over (it keeps no text until the reply).
   */
  addSpread(u: SpreadUnit): void {
    const mine = u.take();
    let p = this.pieces;
    if (u.leads && this.argc === 2) {
      // The batch's first unit: its pieces become the batch's, after the LEAD it left for them.
      for (let i = 0; i < 3; i++) mine[i] = p[i];
      mine[3] = NAMES.get(u.spread.name)!;
      mine[4] = COUNTS[0];
      mine[LEAD - 1] = count(u.argc + 1);
      this.pieces = p = mine;
    } else {
      p.push(NAMES.get(u.spread.name)!, COUNTS[0], count(u.argc + 1));
      for (let i = u.leads ? LEAD : 0; i < mine.length; i++) p.push(mine[i]);
    }
    pushBulk(p, u.shape());
    this.argc += 4 + u.argc;
  }

  /** command is the batch as an EVALSHA, or (the server does not know the script) an EVAL. */
  command(byHash: boolean): Command {
    const head = `*${this.argc + 3}\r\n${byHash ? EVALSHA_HEAD : EVAL_HEAD}`;
    if (this.text === undefined) {
      this.pieces[0] = head;
      this.headLength = head.length;
      this.text = this.pieces.join('');
      this.pieces.length = 0;
      return new RawCommand(this.text);
    }
    // Sent again (as an EVAL after NOSCRIPT): the same arguments after the other head.
    return new RawCommand(head + this.text.slice(this.headLength));
  }
}

/**
 * RawCommand is a Command whose RESP text is already made: ioredis writes it as it is and
 * resolves the command with the parsed reply.
 */
class RawCommand extends Command {
  constructor(private readonly text: string) {
    super('evalsha', [], { replyEncoding: 'utf8' });
  }

  override toWritable(): string {
    return this.text;
  }
}

/**
 * sendBatch sends a batch and resolves with one reply per operation (an Error for one
 * that failed). A server that does not have the script (it restarted, or SCRIPT FLUSH)
 * gets the same batch as an EVAL, which also loads it for the next ones. The batches in
 * flight when the server lost it fail the same way and are sent again in the order their
 * answers come, which is the order they were sent; only if another node loaded the script
 * between two of them could the later one run first (as with ioredis's own scripts).
 */
export function sendBatch(client: Redis, batch: BatchText): Promise<unknown[]> {
  return (client.sendCommand(batch.command(true)) as Promise<unknown[]>).catch((err: unknown) => {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.sendCommand(batch.command(false)) as Promise<unknown[]>;
  });
}
