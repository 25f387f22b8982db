import { strict as assert } from 'node:assert';
import { BlockInstance, EmitOutput, RunOutput } from '../../src/engine/block';
import { createMemoryShared } from '../../src/shared/memory';
import { captureLog, tmpDir } from '../../test/helpers';
import { DbServer, useDb } from '../../test/sql-servers';
import { sqlBlock, SqlOptions } from './index';
import { redactor, shownUrl } from './options';
import { sinceLiteral } from './pgcopy';
import { KeyRowReader, unescape } from './pgcopy-text';
import { pgTimestamp, pgTimestampAt } from './pgtime';
import { SeenKeys } from './seen';
import { timestampMs } from './values';

/** Harness: one block instance with its data dir, what it emitted, and what it logged. */
interface Harness {
  block: BlockInstance;
  emitted: EmitOutput[];
  records: Array<Record<string, unknown>>;
  run(): Promise<RunOutput & { fields: Record<string, number> }>;
}

function harness(o: Partial<SqlOptions> & Pick<SqlOptions, 'url' | 'query'>, dataDir = tmpDir('remon-sql-')): Harness & { dataDir: string } {
  const { log, records } = captureLog();
  const emitted: EmitOutput[] = [];
  const block = sqlBlock.create({ name: 'orders', bucket: '1s', ...o }, {
    name: 'orders', configDir: '/', dataDir, log, emit: () => assert.fail('the sql block reports through its runs'), samples: (fields, at) => emitted.push({ fields, at }),
  });
  return {
    block, emitted, records, dataDir,
    async run() {
      const out = await block.run({ signal: new AbortController().signal, log, shared: createMemoryShared() });
      return { ...out, fields: out.fields ?? {} };
    },
  };
}

const newTotal = (emitted: EmitOutput[]): number => emitted.reduce((s, e) => s + (e.fields?.new ?? 0), 0);

function suite(kind: 'postgres' | 'mariadb'): void {
  describe(`sql block against a real ${kind === 'postgres' ? 'PostgreSQL' : 'MariaDB'}`, function () {
    this.timeout(60_000);
    const db = useDb(kind);
    const ts = kind === 'postgres' ? 'timestamptz' : 'DATETIME(3)';
    const keyQuery = 'SELECT id AS `key`, created_at AS ts FROM orders WHERE created_at > :since ORDER BY created_at'.replace(/`/g, kind === 'postgres' ? '"' : '`');
    const s = (): DbServer => db.server;
    const insert = async (ids: number[], at: Date): Promise<void> => {
      const values = ids.map((id) => `(${id}, ${kind === 'postgres' ? `'${at.toISOString()}'::timestamptz` : `'${at.toISOString().replace('T', ' ').replace('Z', '')}'`})`).join(',');
      await s().sql(`INSERT INTO orders (id, created_at) VALUES ${values}`);
    };

    beforeEach(async () => {
      await s().sql('DROP TABLE IF EXISTS orders');
      await s().sql(`CREATE TABLE orders (id INT PRIMARY KEY, created_at ${ts} NOT NULL)`);
    });

    it('records each key once, with its first timestamp, and counts it in the bucket of that timestamp', async () => {
      const h = harness({ url: s().url, query: keyQuery });
      const t0 = new Date(Date.now() - 5000);
      await insert([1, 2, 3], t0);
      let out = await h.run();
      assert.equal(out.ok, true, out.message);
      assert.equal(out.fields.rows, 3);
      assert.equal(out.fields.seen, 3);
      assert.equal(out.fields.keys, 3);
      // The run's first bucket is the one ending at its start; keys older than it count there.
      assert.equal(newTotal(h.emitted), 3);
      await insert([4, 5], new Date(Date.now() - 100));
      await new Promise((r) => setTimeout(r, 1100));
      out = await h.run();
      assert.equal(out.fields.seen, 2);
      assert.equal(out.fields.keys, 5);
      assert.equal(newTotal(h.emitted), 5, 'every key counted exactly once over the buckets');
      const times = h.emitted.map((e) => e.at!);
      assert.deepEqual(times, [...times].sort((a, b) => a - b), 'buckets in time order');
      assert.ok(times.every((t) => t % 1000 === 0), 'at bucket ends');
      for (let i = 1; i < times.length; i++) assert.equal(times[i] - times[i - 1], 1000, 'no bucket left out (a 0 where no key came)');
      await h.block.close?.();
    });

    it('does not count a key twice after a restart, even when the process died without closing', async () => {
      const dataDir = tmpDir('remon-sql-');
      await insert([1, 2, 3], new Date(Date.now() - 2000));
      const a = harness({ url: s().url, query: 'SELECT id AS "key", created_at AS ts FROM orders'.replace(/"/g, kind === 'postgres' ? '"' : '`') }, dataDir);
      assert.equal((await a.run()).fields.seen, 3);
      // Play kill -9: the seen keys are dropped without a close (what a crash leaves).
      (a.block as unknown as { seen: SeenKeys }).seen.abandon();
      await insert([7], new Date());
      const b = harness({ url: s().url, query: 'SELECT id AS "key", created_at AS ts FROM orders'.replace(/"/g, kind === 'postgres' ? '"' : '`') }, dataDir);
      await new Promise((r) => setTimeout(r, 1100));
      const out = await b.run();
      assert.equal(out.fields.rows, 4);
      assert.equal(out.fields.seen, 1, 'only key 7 is new');
      assert.equal(out.fields.keys, 4);
      assert.equal(newTotal(a.emitted) + newTotal(b.emitted), 4);
      await b.block.close?.();
      await a.block.close?.();
    });

    it('fails a result past max_rows and records none of its keys', async () => {
      await insert([1, 2, 3], new Date(Date.now() - 1000));
      const dataDir = tmpDir('remon-sql-');
      const q = 'SELECT id AS "key", created_at AS ts FROM orders'.replace(/"/g, kind === 'postgres' ? '"' : '`');
      const small = harness({ url: s().url, query: q, max_rows: 2 }, dataDir);
      const out = await small.run();
      assert.equal(out.ok, false);
      assert.match(out.message!, /the query returned more than max_rows \(2\) rows$/);
      await small.block.close?.();
      const big = harness({ url: s().url, query: q }, dataDir);
      assert.equal((await big.run()).fields.seen, 3, 'the keys of the failed run are new to the next');
      await big.block.close?.();
    });

    it('gives a numeric query\'s columns as fields', async () => {
      await insert([1, 2, 3, 4], new Date());
      const h = harness({ url: s().url, query: 'SELECT count(*) AS pending, max(id) AS top, 2.5 AS ratio FROM orders' });
      const out = await h.run();
      assert.equal(out.ok, true, out.message);
      assert.deepEqual({ pending: out.fields.pending, top: out.fields.top, ratio: out.fields.ratio, rows: out.fields.rows }, { pending: 4, top: 4, ratio: 2.5, rows: 1 });
      assert.equal(h.emitted.length, 0);
      await h.block.close?.();
    });

    it('cancels a slow query on the server and shows it on the block, logged once', async () => {
      const sleep = kind === 'postgres' ? 'SELECT pg_sleep(30) IS NULL AS slept' : 'SELECT SLEEP(30) AS slept';
      const h = harness({ url: s().url, query: sleep, every: '10s', timeout: '1s', keys: false });
      const t0 = Date.now();
      const out = await h.run();
      assert.equal(out.ok, false);
      assert.match(out.message ?? '', /query timed out after 900ms \(cancelled on the server\)/);
      assert.ok(Date.now() - t0 < 10_000, 'the run did not wait for the query');
      const list = kind === 'postgres'
        ? "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'"
        : "SELECT count(*) AS n FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'";
      let n = -1;
      for (let i = 0; i < 40 && n !== 0; i++) {
        n = Number((await s().sql(list))[0].n);
        if (n !== 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(n, 0, 'the server is no longer running the query');
      await h.run();
      assert.equal(h.records.filter((r) => r.msg === 'sql query failed').length, 1, 'logged once while it keeps failing');
      await h.block.close?.();
    });

    if (kind === 'postgres') {
      it('reads a key query by COPY with the keys and timestamps of the row-by-row path (escapes, NULLs, every ts type)', async () => {
        await s().sql('CREATE TABLE odd (k text, t timestamptz)');
        const base = Math.floor(Date.now() / 1000) * 1000 - 20_000;
        const keys = ['plain', 'tab\there', 'new\nline', 'back\\slash', '\\N', 'ünïcode ✓ 😀', '', 'cr\rbs\bff\fvt\v', 'comma,"quote"'];
        const values = keys.map((k, i) => `(${k.length === 0 ? "''" : `E'${k.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\x08/g, '\\b').replace(/\f/g, '\\f').replace(/\v/g, '\\013')}'`}, to_timestamp(${(base + i * 1500 + 123) / 1000}))`);
        await s().sql(`INSERT INTO odd VALUES ${values.join(',')}, (NULL, now()), ('no ts', NULL)`);
        const forms: Record<string, string> = {
          timestamptz: 't',
          timestamp: "t AT TIME ZONE 'UTC'",
          'epoch ms (bigint)': '(extract(epoch from t) * 1000)::bigint',
          'epoch s (numeric)': 'extract(epoch from t)',
          'epoch s (float8)': 'extract(epoch from t)::float8',
          'ISO text': `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
        };
        for (const [form, ts] of Object.entries(forms)) {
          const query = `SELECT k AS key, ${ts} AS ts FROM odd WHERE t > :since OR t IS NULL ORDER BY t`;
          const copied = harness({ url: s().url, query });
          // A leading comment: not a query copyKeys copies, so node-postgres's rows are read.
          const rows = harness({ url: s().url, query: `/* row by row */ ${query}` });
          const a = await copied.run();
          const b = await rows.run();
          await copied.block.close?.();
          await rows.block.close?.();
          assert.ok(copied.records.some((r) => r.msg === 'sql key query read by COPY'), `${form}: read by COPY`);
          assert.ok(rows.records.some((r) => r.msg === 'sql query read row by row'), `${form}: read row by row`);
          assert.equal(a.ok, true, a.message);
          assert.deepEqual({ rows: a.fields.rows, seen: a.fields.seen, message: a.message }, { rows: keys.length + 2, seen: keys.length, message: '2 rows without a usable key or ts were ignored' }, form);
          assert.deepEqual({ ...b, fields: { ...b.fields, query_ms: 0 } }, { ...a, fields: { ...a.fields, query_ms: 0 } }, `${form}: the same run as row by row`);
          const counted = (h: Harness): EmitOutput[] => h.emitted.filter((e) => e.fields?.new);
          assert.deepEqual(counted(copied), counted(rows), `${form}: each key in the same bucket`);
          assert.equal(newTotal(copied.emitted), keys.length, form);
          const seen = new SeenKeys({ dir: `${copied.dataDir}/blocks/orders`, keepMs: 86_400_000, bucketMs: 1000 });
          seen.open();
          for (const k of keys) assert.ok(seen.has(k), `${form}: key ${JSON.stringify(k)} recorded as it is`);
          assert.equal(seen.size, keys.length);
          assert.equal(seen.newest(), base + (keys.length - 1) * 1500 + 123, `${form}: the newest ts to the ms`);
          seen.close();
        }
      });

      it('reads by COPY a key longer than a socket read and rows amid notices', async () => {
        await s().sql("CREATE OR REPLACE FUNCTION remon_noisy(k text) RETURNS text AS $$ BEGIN IF k LIKE '%5' THEN RAISE NOTICE 'key %', k; END IF; RETURN k; END $$ LANGUAGE plpgsql");
        await s().sql(`INSERT INTO orders SELECT g, now() - interval '1 second' FROM generate_series(1, 2000) g`);
        const long = `long-${'x'.repeat(300_000)}`;
        const h = harness({ url: s().url, query: `SELECT '${long}' AS key, now() - interval '1 second' AS ts UNION ALL SELECT remon_noisy(id::text), created_at FROM orders UNION ALL SELECT 'after', now() - interval '1 second'` });
        const out = await h.run();
        await h.block.close?.();
        assert.ok(h.records.some((r) => r.msg === 'sql key query read by COPY'), 'read by COPY');
        assert.equal(out.ok, true, out.message);
        assert.deepEqual({ rows: out.fields.rows, seen: out.fields.seen }, { rows: 2002, seen: 2002 });
        const seen = new SeenKeys({ dir: `${h.dataDir}/blocks/orders`, keepMs: 86_400_000, bucketMs: 1000 });
        seen.open();
        assert.ok(seen.has('1') && seen.has('1995') && seen.has('2000') && seen.has(long) && seen.has('after'));
        seen.close();
      });

      it('cancels a slow key query read by COPY on the server, and reads by COPY again after', async () => {
        await insert([1, 2], new Date(Date.now() - 1000));
        const slow = 'SELECT id AS key, created_at AS ts FROM orders WHERE pg_sleep(30) IS NOT NULL AND created_at > :since';
        const h = harness({ url: s().url, query: slow, every: '10s', timeout: '1s' });
        const out = await h.run();
        assert.equal(out.ok, false);
        assert.match(out.message ?? '', /query timed out after 900ms \(cancelled on the server\)/);
        assert.ok(h.records.some((r) => r.msg === 'sql key query read by COPY'), 'the slow query was a COPY');
        let n = -1;
        for (let i = 0; i < 40 && n !== 0; i++) {
          n = Number((await s().sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (%pg_sleep(30)%' AND state = 'active'"))[0].n);
          if (n !== 0) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(n, 0, 'the server is no longer running the COPY');
        await h.block.close?.();
        const fast = harness({ url: s().url, query: slow.replace('pg_sleep(30)', 'pg_sleep(0)') }, h.dataDir);
        const again = await fast.run();
        assert.equal(again.ok, true, again.message);
        assert.equal(again.fields.seen, 2, 'the keys of the cancelled run are new to the next');
        await fast.block.close?.();
      });
    }

    it('never shows or logs the password', async () => {
      const bad = s().url.replace(/\/\/(\w+):/, '//nobody:');
      const h = harness({ url: bad, query: 'SELECT 1 AS one' });
      const out = await h.run();
      assert.equal(out.ok, false);
      assert.ok(!JSON.stringify(out).includes(s().password), JSON.stringify(out));
      assert.ok(!JSON.stringify(h.records).includes(s().password));
      assert.match(out.message!, new RegExp(`^${kind === 'postgres' ? 'postgres' : 'mysql'}://nobody@127\\.0\\.0\\.1:`));
      const wrongTable = harness({ url: s().url, query: `SELECT * FROM no_such_table_${s().password.length}` });
      const out2 = await wrongTable.run();
      assert.equal(out2.ok, false);
      assert.ok(!out2.message!.includes(s().password));
      await h.block.close?.();
      await wrongTable.block.close?.();
    });
  });
}

suite('postgres');
suite('mariadb');

describe('sql block helpers', () => {
  it('redacts the password, as written and decoded', () => {
    const r = redactor('postgres://u:p%40ss@h/db');
    assert.equal(r('login p%40ss or p@ss failed'), 'login *** or *** failed');
    assert.equal(shownUrl('mysql://u:secret@db.example:3306/x?ssl=true'), 'mysql://u@db.example:3306/x');
  });
  it('reads timestamps from dates, epoch seconds, epoch ms and text', () => {
    const ms = Date.UTC(2026, 11, 2, 10, 0, 0);
    assert.equal(timestampMs(new Date(ms)), ms);
    assert.equal(timestampMs(ms / 1000), ms);
    assert.equal(timestampMs(ms), ms);
    assert.equal(timestampMs(String(ms / 1000)), ms);
    assert.equal(timestampMs('2026-12-02T10:00:00Z'), ms);
    assert.ok(Number.isNaN(timestampMs('soon')));
  });
  it('reads PostgreSQL timestamp text, from a string and from COPY bytes, as Date.parse reads its ISO form', () => {
    const cases: Array<[string, string]> = [
      ['2026-12-02 10:00:00+00', '2026-12-02T10:00:00Z'],
      ['2026-12-02 10:00:00.5+01', '2026-12-02T10:00:00.500+01:00'],
      ['2026-12-02 10:00:00.123456-08', '2026-12-02T10:00:00.123-08:00'],
      ['2024-02-29 23:59:59.999+05:30', '2024-02-29T23:59:59.999+05:30'],
      ['1969-07-20 20:17:40', '1969-07-20T20:17:40Z'],
      ['0050-03-01 00:00:00+00', '0050-03-01T00:00:00Z'],
      ['2000-01-01 00:00:00+00:00:30', '1999-12-31T23:59:30Z'],
    ];
    for (const [pg, iso] of cases) {
      const b = Buffer.from(`x\t${pg}\ty`);
      assert.equal(pgTimestamp(pg), Date.parse(iso), pg);
      assert.equal(pgTimestampAt(b, 2, 2 + pg.length), Date.parse(iso), `${pg} from bytes`);
    }
    // Instants from 1843 to 2096 in every offset PostgreSQL prints (an LCG: the same each run).
    let seed = 42;
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let k = 0; k < 2000; k++) {
      const ms = (rand(8_000_000) - 4_000_000) * 1_000_000 + rand(1_000_000);
      const off = rand(26 * 4) * 15 - 13 * 60;
      const local = new Date(ms + off * 60_000).toISOString().slice(0, 23).replace('T', ' ');
      const tz = `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}${Math.abs(off) % 60 ? `:${String(Math.abs(off) % 60).padStart(2, '0')}` : ''}`;
      const pg = `${local}${rand(2) ? String(rand(1000)).padStart(3, '0') : ''}${tz}`;
      assert.equal(pgTimestampAt(Buffer.from(pg), 0, pg.length), ms, pg);
      assert.equal(pgTimestamp(pg), ms, pg);
    }
    for (const odd of ['infinity', '2026-13-02 10:00:00+00', '0044-03-15 12:00:00+00 BC', '\\N']) {
      assert.equal(pgTimestampAt(Buffer.from(odd), 0, odd.length), pgTimestamp(odd), odd);
    }
    assert.ok(Number.isNaN(pgTimestamp('infinity')));
  });
  it('reads COPY text rows: escapes, octal and hex bytes, NULL, the key and ts columns wherever they are', () => {
    const esc = Buffer.from('a\\tb\\\\c\\nd\\101\\x42\\303\\251\\q');
    assert.equal(unescape(esc, 0, esc.length), 'a\tb\\c\ndAB\u00e9q');
    const got: Array<[string | undefined, number]> = [];
    const r = new KeyRowReader(2, 0, 3, 'pg', { keyRow: (k, t) => got.push([k, t]) });
    const rows = ['2026-12-02 10:00:00+00\tx\tk1\n', '\\N\tx\tk\\t2', '2026-12-02 10:00:01+00\tx\t\\N\n', '2026-12-02 10:00:02+00\t\\\\\tün\n'];
    for (const row of rows) {
      const b = Buffer.from(`pad${row}`);
      r.row(b, 3, b.length);
    }
    const t = Date.parse('2026-12-02T10:00:00Z');
    assert.deepEqual(got, [['k1', t], ['k\t2', NaN], [undefined, t + 1000], ['ün', t + 2000]]);
  });
  it('inlines :since for COPY as a timestamptz literal, only from a date it can print', () => {
    assert.equal(sinceLiteral(new Date(Date.UTC(2026, 11, 2, 10, 0, 0, 5))), "'2026-12-02T10:00:00.005Z'::timestamptz");
    assert.equal(sinceLiteral(new Date(NaN)), undefined);
    assert.equal(sinceLiteral(new Date(1e16)), undefined);
    assert.equal(sinceLiteral(new Date(Date.UTC(12026, 0, 1))), undefined);
    assert.equal(sinceLiteral(new Date('0000-06-01T00:00:00Z')), undefined, 'no year 0 in PostgreSQL');
  });
  it('keeps the first timestamp of a key, drops keys older than keep, and compacts without losing any', () => {
    const dir = tmpDir('remon-seen-');
    const now = Date.now();
    const a = new SeenKeys({ dir, keepMs: 3_600_000, bucketMs: 10_000, compactBytes: 1 });
    a.open();
    assert.equal(a.record([['x', now - 1000], ['y\tz', now - 500]], now).added, 2);
    assert.equal(a.record([['x', now], ['old', now - 7_200_000]], now).old, 1);
    a.compact();
    a.record([['w', now], ['line\nbreak', now - 1], ['ünïcode ✓', now - 2]], now);
    a.close();
    const b = new SeenKeys({ dir, keepMs: 3_600_000, bucketMs: 10_000 });
    b.open();
    assert.equal(b.size, 5);
    assert.ok(b.has('y\tz') && b.has('line\nbreak') && b.has('ünïcode ✓'));
    assert.equal(b.newest(), now);
    assert.equal(b.record([['x', now + 5]], now).added, 0);
    assert.equal(b.prune(now + 3_600_000 - 800), 1, 'x (first seen at now - 1000) is older than keep');
    b.close();
  });
});
