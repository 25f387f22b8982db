/**
 * sql benchmark (issue 15). Keys recorded per second by the sql block from a 100,000-row
 * result of a real PostgreSQL (connect, query, parse, record every key on the durable log,
 * hand out the buckets), beside `psql` copying the same rows to /dev/null (process start,
 * connect, query, print). Each round gives the block a fresh data directory, so every key
 * is new. Medians of ROUNDS rounds, the sides alternating.
 *
 *   node dist/bench/sql.js
 *   BENCH_SQL_ROWS=200000 BENCH_SQL_ROUNDS=7 node dist/bench/sql.js
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sqlBlock } from '../blocks/sql';
import { silentLogger } from '../src/log';
import { createMemoryShared } from '../src/shared/memory';
import { tmpDir } from '../test/helpers';
import { PG_BIN, postgresPresent, startPostgres } from '../test/sql-servers';
import { median, table } from './stats';

const ROWS = Number(process.env.BENCH_SQL_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_SQL_ROUNDS ?? 5);
const QUERY = 'SELECT id AS key, created_at AS ts FROM orders';

/** psqlSeconds runs psql once, its output to /dev/null, and answers how long it took. */
function psqlSeconds(port: number, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(path.join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-At', '-c', QUERY], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PGPASSWORD: password },
    });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`psql failed: ${err}`))));
  });
}

/** remonSeconds runs a fresh sql block once (every key new) and answers how long it took. */
async function remonSeconds(url: string): Promise<number> {
  const log = silentLogger();
  const dataDir = tmpDir('remon-bench-sql-');
  const block = sqlBlock.create({ name: 'orders', url, query: QUERY, timeout: '60s', every: '1m' }, { name: 'orders', configDir: '.', dataDir, log, emit: () => undefined });
  const t0 = performance.now();
  const out = await block.run({ signal: new AbortController().signal, log, shared: createMemoryShared() });
  const s = (performance.now() - t0) / 1000;
  await block.close?.();
  if (out.ok === false || out.fields?.seen !== ROWS) throw new Error(`sql block: ${out.message ?? `recorded ${out.fields?.seen} keys, expected ${ROWS}`}`);
  return s;
}

export async function benchSql(): Promise<string> {
  if (!postgresPresent()) return '## sql\n\nskipped: postgresql is not installed (apt-get install postgresql)\n';
  const pg = await startPostgres();
  try {
    await pg.sql('CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL)');
    await pg.sql(`INSERT INTO orders SELECT g, now() - (g || ' ms')::interval * 30 FROM generate_series(1, ${ROWS}) g`);
    await pg.sql('VACUUM ANALYZE orders');
    await psqlSeconds(pg.port, pg.password); // warm the server's cache
    const psql: number[] = [];
    const remon: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      psql.push(await psqlSeconds(pg.port, pg.password));
      remon.push(await remonSeconds(pg.url));
    }
    const p = ROWS / median(psql);
    const r = ROWS / median(remon);
    return table(
      `sql: ${ROWS.toLocaleString('en')} (key, ts) rows from PostgreSQL, median of ${ROUNDS} rounds (target remon/psql >= 0.5)`,
      ['what', 'psql rows/s (to /dev/null)', 'sql block keys/s (recorded)', 'remon/psql'],
      [[`${ROWS} rows, one query`, Math.round(p), Math.round(r), r / p]],
    );
  } finally {
    await pg.stop();
  }
}

if (require.main === module) {
  benchSql().then((t) => console.log(t)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
