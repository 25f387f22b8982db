import { KeyRowReader } from './pgcopy-text';

/** Connection: what CopyOut uses of node-postgres's Connection. */
interface Connection {
  stream: NodeJS.EventEmitter;
  query(text: string): void;
  sendCopyFail(msg: string): void;
}

type OnData = (chunk: Buffer) => void;

/** Message codes of the protocol that CopyOut reads itself. */
const COPY_DATA = 100; // 'd'
const COPY_OUT = 72; // 'H'
const COPY_DONE = 99; // 'c'

/**
 * CopyOut is a node-postgres submittable (the interface pg-cursor and pg-copy-streams use)
 * for a simple-protocol `COPY ... TO STDOUT`: its rows, one CopyData message each, go to
 * the reader. It settles when the connection is ready again, or at the query's error.
 *
 * Like pg-copy-streams, it takes the socket's data from node-postgres while the rows come
 * and reads the messages in place: a row costs no message object, Buffer slice or event.
 * At the first message that is not CopyOutResponse, CopyData or CopyDone (CommandComplete,
 * an error, a notice) it hands the socket back with the bytes from that message on, and
 * node-postgres goes on as usual (a CopyData it parses comes to handleCopyData).
 */
export class CopyOut {
  private failure?: unknown;
  private connection?: Connection;
  private pgData?: OnData;
  /** Bytes of a message not complete yet, and how many its message needs (0: unknown yet). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = 0;

  constructor(
    private readonly text: string,
    private readonly reader: KeyRowReader,
    private readonly resolve: () => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  submit(connection: Connection): void {
    const listeners = connection.stream.listeners('data');
    if (listeners.length === 1) {
      this.connection = connection;
      this.pgData = listeners[0] as OnData;
      connection.stream.removeListener('data', this.pgData);
      connection.stream.on('data', this.onData);
    }
    connection.query(this.text);
  }

  private readonly onData = (chunk: Buffer): void => {
    let b = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < Math.max(5, this.need)) return;
      b = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.need = 0;
    let i = 0;
    while (b.length - i >= 5) {
      const code = b[i];
      if (code !== COPY_DATA && code !== COPY_OUT && code !== COPY_DONE) {
        this.handBack(b.subarray(i));
        return;
      }
      const size = 1 + b.readUInt32BE(i + 1);
      if (b.length - i < size) {
        this.need = size;
        break;
      }
      if (code === COPY_DATA) this.read(b, i + 5, i + size);
      i += size;
    }
    if (i < b.length) {
      this.pending.push(b.subarray(i));
      this.pendingBytes = b.length - i;
    }
  };

  private read(b: Buffer, start: number, end: number): void {
    if (this.failure !== undefined) return;
    try {
      this.reader.row(b, start, end);
    } catch (err) {
      this.failure = err; // thrown into the socket's handler it would break the connection
    }
  }

  /** handBack gives node-postgres its socket again, with rest (the bytes it has not seen). */
  private handBack(rest?: Buffer): void {
    const c = this.connection;
    const pgData = this.pgData;
    if (!c || !pgData) return;
    this.connection = undefined;
    this.pgData = undefined;
    c.stream.removeListener('data', this.onData);
    c.stream.on('data', pgData);
    if (rest && rest.length > 0) pgData(rest);
  }

  handleCopyData(msg: { chunk: Buffer }): void {
    this.read(msg.chunk, 0, msg.chunk.length);
  }

  handleError(err: unknown): void {
    this.handBack();
    this.reject(err);
  }

  handleReadyForQuery(): void {
    this.handBack();
    if (this.failure !== undefined) this.reject(this.failure);
    else this.resolve();
  }

  handleCopyInResponse(connection: Connection): void {
    connection.sendCopyFail('remon copies out only');
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}
