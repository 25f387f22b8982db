/**
 * The sql block end to end, on a node run as a user runs it (`remon run`, the RRD store)
 * against a real PostgreSQL and a real MariaDB: rows inserted at a controlled rate drive the count SLA
 * `count(orders.new, 4s) between 3 and 20` (slots every second) from ok to firing to
 * resolved, with the webhook told both; a kill -9 and restart counts no key twice (the
 * stored orders.new adds up to the rows in the table); the password is nowhere.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { Client } from 'pg';
import { freePort, sleep, tmpDir, waitFor, writeConfig } from './helpers';
import { get, RemonNode } from './remon-node';
import { useDb } from './sql-servers';

for (const kind of ['postgres', 'mariadb'] as const) describe(`sql block on a node against a real ${kind === 'postgres' ? 'PostgreSQL' : 'MariaDB'}: count SLA, webhook, restart`, function () {
  this.timeout(180_000);
  const db = useDb(kind);
  const pg = kind === 'postgres';
  let node: RemonNode | undefined;
  let receiver: http.Server | undefined;
  let inserter: { query(sql: string): Promise<unknown>; end(): Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;

  afterEach(async () => {
    if (timer) clearInterval(timer);
    await node?.kill('SIGKILL');
    await inserter?.end().catch(() => undefined);
    if (receiver) await new Promise((r) => receiver!.close(r));
  });

  it('rows at a controlled rate: ok, firing when they stop, resolved when they resume; restart counts nothing twice', async () => {
    const s = db.server;
    await s.sql('DROP TABLE IF EXISTS orders');
    await s.sql(pg
      ? 'CREATE TABLE orders (id serial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp())'
      : 'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3))');
    const got: Array<{ alert: Record<string, unknown> }> = [];
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { got.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const port = await freePort();
    const dir = tmpDir('remon-sql-node-');
    process.env.REMON_TEST_DB_PASSWORD = s.password;
    const url = s.url.replace(s.password, '${REMON_TEST_DB_PASSWORD}');
    const file = writeConfig([
      'node:',
      `  listen: 127.0.0.1:${port}`,
      `  data: ${path.join(dir, 'data')}`,
      'storage: { kind: rrd, retention: ["1s:1h"] }',
      'blocks:',
      '  - name: orders',
      '    type: sql',
      '    every: 1s',
      `    url: ${url}`,
      pg
        ? "    query: SELECT id AS key, created_at AS ts FROM orders WHERE created_at > :since - interval '5 seconds'"
        : '    query: SELECT id AS `key`, created_at AS ts FROM orders WHERE created_at > :since - INTERVAL 5 SECOND',
      'slas:',
      '  - name: orders-flow',
      '    test: count(orders.new, 4s) between 3 and 20',
      '    during: { cron: "* * * * * *" }',
      '    escalate: team',
      'contacts:',
      `  web: { webhook: "${hook}" }`,
      'escalations:',
      '  team: { levels: [ { notify: [web], after: 0s } ], group_wait: 0s }',
    ].join('\n'), dir);
    const base = `http://127.0.0.1:${port}`;
    if (pg) {
      const c = new Client({ connectionString: s.url });
      await c.connect();
      inserter = c;
    } else {
      inserter = await mysql.createConnection({ uri: s.url });
    }
    const failedInserts: string[] = [];
    // About 3 orders a second: 12 in a 4s window, 9 or more with the last bucket still out.
    const insertEvery = (ms: number): void => {
      timer = setInterval(() => { inserter!.query(pg ? 'INSERT INTO orders DEFAULT VALUES' : 'INSERT INTO orders () VALUES ()').catch((err) => { failedInserts.push(String(err)); }); }, ms);
    };
    const stopInserting = (): void => { clearInterval(timer); timer = undefined; };
    const sla = async (): Promise<Record<string, unknown>> => (await get(`${base}/api/slas`) as Array<Record<string, unknown>>).find((x) => x.name === 'orders-flow')!;

    insertEvery(333);
    node = await RemonNode.start(file, base);
    try {
      await waitFor(async () => (await sla()).state === 'ok', 20_000, 'orders-flow ok while orders come');
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await sla())} ${JSON.stringify(await get(`${base}/api/blocks/orders`))} ${node.out.slice(-3000)}`);
    }
    stopInserting();
    await waitFor(() => got.some((g) => g.alert.state === 'firing'), 20_000, 'the firing notification');
    const firing = got.find((g) => g.alert.state === 'firing')!.alert;
    assert.equal(firing.sla, 'orders-flow');
    assert.match(String(firing.message), /count\(orders\.new, 4s\) \((\d+)\) between 3 and 20/);
    insertEvery(333);
    await waitFor(() => got.some((g) => g.alert.state === 'resolved'), 20_000, 'the resolved notification');
    assert.deepEqual(got.map((g) => g.alert.state), ['firing', 'resolved']);
    assert.deepEqual(failedInserts, []);
    stopInserting();
    const rows = Number((await s.sql('SELECT count(*) AS n FROM orders'))[0].n);
    await waitFor(async () => (await get(`${base}/api/blocks/orders`)).fields?.keys === rows, 10_000, `the block to have seen all ${rows} rows`);
    await sleep(2500); // a few quiet runs: every bucket with keys is handed out and stored

    // kill -9 and restart: no key is new again, and the stored counts add up to the rows.
    await node.kill('SIGKILL');
    const restartedAt = Date.now();
    node = await RemonNode.start(file, base);
    await waitFor(async () => Date.parse((await get(`${base}/api/blocks/orders`)).lastRun ?? '0') > restartedAt, 10_000, 'a run after the restart');
    const block = await get(`${base}/api/blocks/orders`);
    assert.equal(block.fields.keys, rows);
    assert.equal(block.fields.seen, 0, 'no key is new after the restart');
    assert.ok(block.runs < 30, `runs counts the block's runs, not the buckets handed out (${block.runs})`);
    const up = await get(`${base}/api/series/orders.up?from=${Date.now() - 3_500_000}&to=${restartedAt - 120_000}`);
    assert.deepEqual((up.points as Array<[number, number | null]>).filter(([, v]) => v !== null), [], 'no orders.up before the node ran');
    await sleep(1500);
    const series = await get(`${base}/api/series/orders.new?from=${Date.now() - 3_500_000}&to=${Date.now()}`);
    const total = (series.points as Array<[number, number | null]>).reduce((n, [, v]) => n + (v ?? 0), 0);
    assert.equal(total, rows, 'every order counted once in orders.new, across the kill');

    for (const url of ['/api/blocks', '/api/blocks/orders', '/api/slas', '/metrics', '/api/alerts']) {
      const text = await (await fetch(`${base}${url}`)).text();
      assert.ok(!text.includes(s.password), `${url} shows the password`);
    }
    assert.ok(!node.out.includes(s.password), 'the log shows the password');
  });
});
