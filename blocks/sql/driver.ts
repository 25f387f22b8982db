import { Client, Query, types } from 'pg';
import * as mysql from 'mysql2/promise';
import { copyKeys, KeySink } from './pgcopy';
import { PG_TIMESTAMP, PG_TIMESTAMPTZ, pgTimestamp } from './pgtime';
import { OneConnection } from './connection';

/** DriverName: the database protocols the sql block speaks. */
export type DriverName = 'postgres' | 'mysql';

/** RowSink takes a result as it arrives: the column names once, then each row in column order. */
export interface RowSink {
  columns(names: string[]): void;
  row(values: unknown[]): void;
}

/**
 * Driver is one database connection of an sql block: made on the first query and again
 * after a failure; `cancel` stops the query in flight on the server, from a second
 * connection (pg_cancel_backend, KILL QUERY).
 */
export interface Driver {
  /** query runs a statement and hands its result to sink as it arrives (rows are not kept). */
  query(text: string, params: unknown[], sink: RowSink): Promise<void>;
  /**
   * copyKeys runs a key query the fast way where the database has one (PostgreSQL: COPY,
   * pgcopy.ts), `:since` inlined in text: true, or why it cannot, having handed sink nothing.
   */
  copyKeys?(text: string, keys: boolean | undefined, sink: KeySink): Promise<true | string>;
  cancel(): Promise<void>;
  /** reset drops the connection (after a failure or a cancel); the next query connects again. */
  reset(): Promise<void>;
}

/** placeholder turns `:since` into the driver's parameter marker (a timestamptz in PostgreSQL, so `:since - interval '1m'` works). */
export function placeholder(driver: DriverName): string {
  return driver === 'postgres' ? '$1::timestamptz' : '?';
}

/** pgDate: a timestamp's text as a Date, read by pgTimestamp (node-postgres's own parser is regex-heavy). */
const pgDate = (text: string): Date => new Date(pgTimestamp(text));

/** pgTypes: node-postgres's parsers, but timestamps read by pgTimestamp. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === PG_TIMESTAMP || oid === PG_TIMESTAMPTZ) && format !== 'binary'
    ? pgDate : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
};

/** PgDriver speaks to PostgreSQL with node-postgres. */
export class PgDriver implements Driver {
  private readonly conn = new OneConnection(async () => {
    const c = new Client({ connectionString: this.url, connectionTimeoutMillis: this.connectMs, application_name: 'remon' });
    c.on('error', () => void this.reset()); // a connection lost between runs: the next run connects again
    try {
      await c.connect();
    } catch (err) {
      c.end().catch(() => undefined);
      throw err;
    }
    return c;
  });

  constructor(private readonly url: string, private readonly connectMs: number) {}

  async query(text: string, params: unknown[], sink: RowSink): Promise<void> {
    const c = await this.conn.get();
    // rowMode 'array' is a Query option node-postgres takes (its types do not list it).
    const q = new Query({ text, values: params, rowMode: 'array', types: pgTypes } as ConstructorParameters<typeof Query>[0]);
    let described = false;
    const describe = (fields: Array<{ name: string }>): void => {
      if (described) return;
      described = true;
      sink.columns(fields.map((f) => f.name));
    };
    await new Promise<void>((resolve, reject) => {
      q.on('row', (row: unknown[], result?: { fields: Array<{ name: string }> }) => {
        describe(result?.fields ?? []);
        sink.row(row);
      });
      q.on('end', (result?: { fields: Array<{ name: string }> }) => {
        describe(result?.fields ?? []);
        resolve();
      });
      q.on('error', reject);
      c.query(q);
    });
  }

  async copyKeys(text: string, keys: boolean | undefined, sink: KeySink): Promise<true | string> {
    return copyKeys(await this.conn.get(), text, keys, sink);
  }

  async cancel(): Promise<void> {
    const pid = (this.conn.current as unknown as { processID?: number } | undefined)?.processID;
    if (!pid) return;
    const c = new Client({ connectionString: this.url, connectionTimeoutMillis: this.connectMs, application_name: 'remon-cancel' });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async reset(): Promise<void> {
    await this.conn.take()?.end().catch(() => undefined);
  }
}

/** MysqlDriver speaks to MySQL and MariaDB with mysql2; DATETIME values are read and written as UTC. */
export class MysqlDriver implements Driver {
  private readonly conn = new OneConnection(async () => {
    const c = await mysql.createConnection(this.options());
    c.on('error', () => void this.reset());
    return c;
  });

  constructor(private readonly url: string, private readonly connectMs: number) {}

  private options(): mysql.ConnectionOptions {
    return { uri: this.url.replace(/^mariadb:/, 'mysql:'), connectTimeout: this.connectMs, timezone: 'Z', dateStrings: false, supportBigNumbers: true };
  }

  async query(text: string, params: unknown[], sink: RowSink): Promise<void> {
    const c = await this.conn.get();
    // The callback connection under the promise one streams: rows are handed on, not kept.
    const core = (c as unknown as { connection: { query(o: object): NodeJS.EventEmitter } }).connection;
    let described = false;
    await new Promise<void>((resolve, reject) => {
      const q = core.query({ sql: text, values: params, rowsAsArray: true });
      q.on('fields', (fields: Array<{ name: string }> | undefined) => {
        if (described) return;
        described = true;
        sink.columns((fields ?? []).map((f) => f.name));
      });
      q.on('result', (row: unknown) => {
        if (Array.isArray(row)) sink.row(row); // an OK packet of a statement without rows is not a row
      });
      q.on('end', () => {
        if (!described) sink.columns([]);
        resolve();
      });
      q.on('error', reject);
    });
  }

  async cancel(): Promise<void> {
    const id = this.conn.current?.threadId;
    if (!id) return;
    const c = await mysql.createConnection(this.options());
    c.on('error', () => undefined);
    try {
      await c.query('KILL QUERY ?', [id]);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async reset(): Promise<void> {
    this.conn.take()?.destroy();
  }
}
