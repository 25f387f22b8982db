import * as path from 'node:path';
import { BlockEnv, BlockInstance, BlockType, RunContext, RunOutput } from '../../src/engine/block';
import { errorMessage } from '../../src/errors';
import { formatDuration, parseDuration } from '../../src/util/duration';
import { Driver, MysqlDriver, PgDriver, placeholder } from './driver';
import {
  bucketMs, check, DEFAULT_KEEP_MS, DEFAULT_MAX_ROWS, driverOf, KEY_FIELDS, queryTimeoutMs, redactor, schema, shownUrl, SINCE, SqlOptions,
} from './options';
import { SeenKeys } from './seen';
import { Collector } from './collect';
import { sinceLiteral } from './pgcopy';
import { numberOf } from './values';

export type { SqlOptions } from './options';

/**
 * SqlBlock runs one query per run. A key query's rows `(key, ts)` are recorded in SeenKeys
 * (the first timestamp of a key sticks) and their counts per bucket are emitted as
 * `<block>.new` at each bucket's end; a numeric query's first row gives fields.
 */
class SqlBlock implements BlockInstance {
  private readonly driver: Driver;
  private readonly redact: (t: string) => string;
  private readonly where: string;
  private readonly text: string;
  private readonly usesSince: boolean;
  private readonly keepMs: number;
  private readonly bucketMs: number;
  private seen?: SeenKeys;
  /** The last failure logged (logged once until a run succeeds). */
  private failing = '';
  /** How the last run read its result (copyKeys' answer), logged when it changes. */
  private read: true | string = '';

  constructor(private readonly o: SqlOptions, private readonly env: BlockEnv) {
    const driver = driverOf(o.url)!;
    const connectMs = Math.max(100, queryTimeoutMs(o));
    this.driver = driver === 'postgres' ? new PgDriver(o.url, connectMs) : new MysqlDriver(o.url, connectMs);
    this.redact = redactor(o.url);
    this.where = shownUrl(o.url);
    this.usesSince = SINCE.test(o.query);
    SINCE.lastIndex = 0;
    this.text = o.query.replace(SINCE, placeholder(driver));
    this.keepMs = o.keep ? parseDuration(o.keep)! : DEFAULT_KEEP_MS;
    this.bucketMs = bucketMs(o);
  }

  /** keys opens the seen keys on first use (a reload's new instance opens them after the old one closed). */
  private keys(): SeenKeys {
    if (this.seen) return this.seen;
    const s = new SeenKeys({ dir: path.join(this.env.dataDir, 'blocks', this.o.name), keepMs: this.keepMs, bucketMs: this.bucketMs, log: this.env.log });
    s.open();
    if (s.damaged) this.env.log.warn({ damaged: s.damaged }, 'seen keys: skipped unreadable records');
    this.seen = s;
    return s;
  }

  async run(ctx: RunContext): Promise<RunOutput> {
    const started = Date.now();
    let seen: SeenKeys | undefined;
    const params: unknown[] = [];
    if (this.usesSince) {
      if (this.o.keys !== false) {
        try {
          seen = this.keys();
        } catch (err) {
          return this.fail(`seen keys: ${errorMessage(err)}`, {});
        }
      }
      const newest = seen?.newest();
      params.push(new Date(newest !== undefined && Number.isFinite(newest) ? newest : started - this.keepMs));
    }
    const limit = queryTimeoutMs(this.o);
    let timedOut = false;
    const cancel = (): void => {
      this.driver.cancel().catch((err) => this.env.log.warn({ err: this.redact(errorMessage(err)) }, 'sql query could not be cancelled'));
    };
    const timer = setTimeout(() => { timedOut = true; cancel(); }, limit);
    const onAbort = (): void => cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const c = new Collector({
      keys: this.o.keys, maxRows: this.o.max_rows ?? DEFAULT_MAX_ROWS, seen: () => this.keys(), now: Date.now(), copying: () => this.readBy(true),
    });
    let failure: string | undefined;
    try {
      const copy = this.copyText(params);
      const how = copy === undefined ? 'no COPY for this database or query' : await this.driver.copyKeys!(copy, this.o.keys, c);
      if (how !== true) {
        this.readBy(how);
        await this.driver.query(this.text, params, c);
      }
    } catch (err) {
      await this.driver.reset();
      failure = errorMessage(err);
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const queryMs = Date.now() - started;
    if (timedOut) {
      c.abort();
      await this.driver.reset();
      return this.fail(`query timed out after ${formatDuration(limit)} (cancelled on the server)`, { query_ms: queryMs });
    }
    failure ??= c.problem;
    if (failure !== undefined) {
      c.abort();
      return this.fail(failure, { rows: c.rows, query_ms: queryMs });
    }
    const out = c.isKeys ? this.keyRun(c, started, queryMs) : this.numericRun(c, queryMs);
    if (out.ok !== false && this.failing) {
      this.env.log.info({ where: this.where }, 'sql query works again');
      this.failing = '';
    }
    return out;
  }

  /** readBy logs (debug) how the query's result is read, when that changes. */
  private readBy(how: true | string): void {
    if (how === this.read) return;
    this.read = how;
    if (how === true) this.env.log.debug({ block: this.o.name }, 'sql key query read by COPY');
    else this.env.log.debug({ block: this.o.name, why: this.redact(how) }, 'sql query read row by row');
  }

  /** copyText is the query with `:since` inlined for copyKeys (undefined: the normal path). */
  private copyText(params: unknown[]): string | undefined {
    if (!this.driver.copyKeys || this.o.keys === false) return undefined;
    if (!this.usesSince) return this.o.query;
    const since = sinceLiteral(params[0] as Date);
    return since === undefined ? undefined : this.o.query.replace(SINCE, since);
  }

  private keyRun(c: Collector, started: number, queryMs: number): RunOutput {
    const seen = this.seen!; // the collector opened it
    let rec;
    try {
      rec = c.recorder!.commit();
    } catch (err) {
      return this.fail(errorMessage(err), { rows: c.rows, query_ms: queryMs });
    }
    // Buckets that ended before this run started: their samples come before the run's own.
    const publish = this.env.samples ?? ((fields: Record<string, number>, at: number) => this.env.emit({ at, fields }));
    for (const [at, n] of seen.due(started)) publish({ new: n }, at);
    seen.prune(Date.now());
    const bad = c.noKey + rec.bad;
    const fields = { rows: c.rows, seen: rec.added, keys: seen.size, old: rec.old, query_ms: queryMs };
    if (bad > 0) return { ok: true, fields, message: `${bad} rows without a usable key or ts were ignored` };
    return { ok: true, fields };
  }

  private numericRun(c: Collector, queryMs: number): RunOutput {
    const fields: Record<string, number> = { rows: c.rows, query_ms: queryMs };
    const first = c.first;
    if (!first) return { ok: true, fields };
    const columns = c.columnNames;
    const skipped: string[] = [];
    columns.forEach((col, i) => {
      const v = numberOf(first[i]);
      const name = col.replace(/[^A-Za-z0-9_]/g, '_');
      if (v === undefined || name === 'up' || name === 'duration_ms') skipped.push(col);
      else fields[name] = v;
    });
    if (skipped.length === columns.length) return this.fail(`no numeric column in the first row (columns: ${columns.join(', ')})`, fields);
    return { ok: true, fields };
  }

  /** fail is a failed run: its message (password redacted, url shown without it) logged once per streak. */
  private fail(why: string, fields: Record<string, number>): RunOutput {
    const message = this.redact(`${this.where}: ${why}`);
    if (message !== this.failing) {
      this.env.log.warn({ err: message }, 'sql query failed');
      this.failing = message;
    }
    return { ok: false, fields, message };
  }

  async close(): Promise<void> {
    await this.driver.reset();
    this.seen?.close();
    this.seen = undefined;
  }
}

/** sqlBlock: dwmon's count checks: new keys of a query per time bucket, or a query's numbers. */
export const sqlBlock: BlockType<SqlOptions> = {
  type: 'sql',
  description: 'Query PostgreSQL or MySQL/MariaDB: count new (key, ts) rows per time bucket as <block>.new, or read a query\'s numbers as fields.',
  schema,
  check,
  fields: (o) => (o.keys === true ? [...KEY_FIELDS] : undefined),
  // <block>.new holds new keys per bucket: an SLA's count(orders.new, 3m) adds them up.
  events: (o) => (o.keys === false ? [] : ['new']),
  create(o, env) {
    return new SqlBlock(o, env);
  },
};
