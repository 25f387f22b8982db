/**
 * The influx store's parts that need no server: line protocol, metric-name mapping, the
 * on-disk spool, error classification, config and the store factory.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpError } from '@influxdata/influxdb-client';
import { loadConfig } from '../src/config/load';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { createStore } from '../src/store';
import { InfluxStore } from '../src/store/influx';
import { LineEncoder, metricName, seriesOfMetric, tagSet } from '../src/store/influx/line';
import { quote } from '../src/store/influx/promql';
import { classify, HttpStatusError } from '../src/store/influx/sender';
import { Spool } from '../src/store/influx/spool';
import { MemoryStore } from '../src/store/memory';
import { tmpDir } from './helpers';

const lines = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `m,node=a f=${from + i} ${1000 + from + i}`);

/** drain reads a spool to the end, acknowledging every chunk. */
async function drain(spool: Spool, chunkLines = 7): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const c = await spool.read(chunkLines);
    if (!c) return out;
    out.push(...c.lines);
    await spool.ack(c);
  }
}

describe('influx store: line protocol', () => {
  const cases: Array<{ name: string; series: string; value: number; t: number; labels?: Record<string, string>; node?: string; line: string | undefined }> = [
    { name: 'measurement is the block, field the rest', series: 'homepage.total_ms', value: 12.5, t: 1_700_000_000_000, line: 'homepage,node=alpha total_ms=12.5 1700000000000' },
    { name: 'a field with dots keeps them', series: 'snmp.if.in', value: 3, t: 5, line: 'snmp,node=alpha if.in=3 5' },
    { name: 'labels follow node, sorted', series: 'a.b', value: -1, t: 7, labels: { zone: 'z1', dc: 'fra' }, line: 'a,node=alpha,dc=fra,zone=z1 b=-1 7' },
    { name: 'escapes spaces, commas and = in tags', series: 'a.b', value: 1, t: 1, labels: { site: 'x y,z=w' }, node: 'n 1', line: 'a,node=n\\ 1,site=x\\ y\\,z\\=w b=1 1' },
    { name: 'an empty label value is left out', series: 'a.b', value: 1, t: 1, labels: { env: '' }, line: 'a,node=alpha b=1 1' },
    { name: 'fractional ms are rounded', series: 'a.b', value: 0.1, t: 1.6, line: 'a,node=alpha b=0.1 2' },
    { name: 'a name without a dot gets field value', series: 'plain', value: 2, t: 3, line: 'plain,node=alpha value=2 3' },
    { name: 'NaN is not written', series: 'a.b', value: NaN, t: 1, line: undefined },
    { name: 'Infinity is not written', series: 'a.b', value: Infinity, t: 1, line: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const enc = new LineEncoder(tagSet(c.node ?? 'alpha', c.labels ?? {}));
      assert.equal(enc.encode({ series: c.series, value: c.value, t: c.t, kind: 'gauge' }), c.line);
    });
  }

  it('maps series to VictoriaMetrics metric names and back', () => {
    assert.equal(metricName('homepage.total_ms'), 'homepage_total_ms');
    assert.equal(metricName('nightly-backup.up'), 'nightly-backup_up');
    const blocks = ['disk_root', 'disk', 'web-1'];
    assert.equal(seriesOfMetric('disk_root_used_pct', blocks), 'disk_root.used_pct');
    assert.equal(seriesOfMetric('disk_free', blocks), 'disk.free');
    assert.equal(seriesOfMetric('web-1_up', blocks), 'web-1.up');
    assert.equal(seriesOfMetric('gone_total_ms', blocks), 'gone.total_ms', 'unknown blocks split at the first _');
  });

  it('quotes PromQL strings', () => {
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  });
});

describe('influx store: spool', () => {
  it('gives lines back in order across segments, and deletes what was delivered', async () => {
    const dir = tmpDir();
    const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 200 });
    spool.append(lines(50));
    await spool.sync();
    assert.ok(spool.files.length >= 4, `expected several segments, got ${spool.files.length}`);
    assert.equal(spool.undeliveredLines, 50);
    spool.append(lines(10, 50));
    assert.deepEqual(await drain(spool), lines(60));
    assert.equal(spool.undeliveredLines, 0);
    assert.deepEqual(fs.readdirSync(dir), [], 'segments and cursor are removed once delivered');
    await spool.close();
  });

  it('a released chunk is read again', async () => {
    const spool = new Spool({ dir: tmpDir(), maxBytes: 1 << 20 });
    spool.append(lines(5));
    const c1 = await spool.read(3);
    await spool.release(c1!);
    const c2 = await spool.read(3);
    assert.deepEqual(c2!.lines, lines(3));
    await spool.ack(c2!);
    assert.deepEqual((await spool.read(10))!.lines, lines(2, 3));
    await spool.close();
  });

  it('a new spool on the same directory resumes after the last acknowledged chunk', async () => {
    const dir = tmpDir();
    const a = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 300 });
    a.append(lines(30));
    const c = await a.read(12);
    await a.ack(c!);
    await a.close();
    const b = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 300 });
    assert.deepEqual(await drain(b), lines(18, 12));
    assert.equal(b.restored, 18);
    await b.close();
  });

  it('keeps the whole lines of a segment whose last write was cut short', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'seg-000000000007.lp'), 'm,node=a f=1 1\nm,node=a f=2 2\nm,node=a f=');
    const spool = new Spool({ dir, maxBytes: 1 << 20 });
    spool.append(['m,node=a f=3 3']);
    assert.deepEqual(await drain(spool), ['m,node=a f=1 1', 'm,node=a f=2 2', 'm,node=a f=3 3']);
    await spool.close();
  });

  it('drops the oldest segments past its cap and reports how many lines', async () => {
    const drops: Array<[number, number]> = [];
    const spool = new Spool({ dir: tmpDir(), maxBytes: 2000, segmentBytes: 250, onDrop: (n, b) => drops.push([n, b]) });
    spool.append(lines(200)); // 200 lines of 20-22 bytes: about twice the cap
    await spool.sync();
    const dropped = drops.reduce((s, d) => s + d[0], 0);
    assert.ok(dropped > 90, `dropped ${dropped}`);
    assert.equal(spool.dropped, dropped);
    assert.ok(spool.undeliveredBytes <= 2000, `${spool.undeliveredBytes} bytes kept`);
    const kept = await drain(spool, 1000);
    assert.equal(kept.length + dropped, 200);
    assert.deepEqual(kept, lines(200).slice(dropped), 'the newest lines are kept, in order');
    await spool.close();
  });

  it('counts lines out for delivery when their segment is dropped only if they then fail', async () => {
    const spool = new Spool({ dir: tmpDir(), maxBytes: 600, segmentBytes: 100 });
    spool.append(lines(4));
    const out = await spool.read(4); // the first segment's lines are out
    spool.append(lines(60, 4));
    await spool.sync(); // drops the first segment while it is out
    const before = spool.dropped;
    await spool.release(out!);
    assert.equal(spool.dropped, before + out!.lines.length);
    await spool.close();
  });

  it('reports a spool it cannot write as REMON_ERR_STORE_SPOOL and counts the lines lost', async () => {
    const file = path.join(tmpDir(), 'not-a-dir');
    fs.writeFileSync(file, '');
    const errors: string[] = [];
    const spool = new Spool({ dir: file, maxBytes: 1 << 20, onError: (e, lost) => errors.push(`${e.code} ${lost}`) });
    spool.append(lines(3));
    await spool.sync();
    assert.deepEqual(errors, ['REMON_ERR_STORE_SPOOL 0', 'REMON_ERR_STORE_SPOOL 3']);
    assert.equal(spool.dropped, 3);
  });
});

describe('influx store: errors', () => {
  const url = 'http://127.0.0.1:9';
  const cases: Array<{ name: string; err: unknown; op: 'write' | 'read'; code: string; message: RegExp }> = [
    { name: 'connection refused', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), op: 'write', code: 'REMON_ERR_STORE_UNREACHABLE', message: /^cannot reach http:\/\/127\.0\.0\.1:9: connect ECONNREFUSED/ },
    { name: 'fetch failed', err: new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' }) }), op: 'read', code: 'REMON_ERR_STORE_UNREACHABLE', message: /ENOTFOUND x\.invalid/ },
    { name: 'HTTP 503', err: new HttpError(503, 'Service Unavailable', 'busy'), op: 'write', code: 'REMON_ERR_STORE_UNAVAILABLE', message: /^http:\/\/127\.0\.0\.1:9 answered HTTP 503 \(busy\); will retry$/ },
    { name: 'HTTP 401', err: new HttpError(401, 'Unauthorized', '{"message":"unauthorized access"}', undefined, 'application/json'), op: 'write', code: 'REMON_ERR_STORE_REFUSED', message: /HTTP 401 \(unauthorized access\); check storage\.token/ },
    { name: 'HTTP 404 on a write', err: new HttpError(404, 'Not Found', '{"message":"bucket \\"x\\" not found"}', undefined, 'application/json'), op: 'write', code: 'REMON_ERR_STORE_REFUSED', message: /check storage\.url, org and bucket/ },
    { name: 'HTTP 400 on a write', err: new HttpError(400, 'Bad Request', 'unable to parse'), op: 'write', code: 'REMON_ERR_STORE_REJECTED', message: /3 lines rejected as malformed and dropped/ },
    { name: 'HTTP 400 on a read', err: new HttpStatusError(400, 'parse error at char 3'), op: 'read', code: 'REMON_ERR_STORE_QUERY', message: /answered HTTP 400 \(parse error at char 3\)/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = classify(c.err, url, c.op, 3);
      assert.equal(e.code, c.code);
      assert.match(e.message, c.message);
      assert.equal(e.cause, c.err);
    });
  }
});

describe('influx store: config and factory', () => {
  const file = '/srv/remon/monitor.yaml';
  const minimal = 'storage:\n  kind: influx\n  url: http://127.0.0.1:8428/\n  bucket: remon\nblocks:\n  - { name: load, type: shell, command: "true" }\n';

  it('fills the influx defaults', () => {
    const { config } = loadConfig(file, { ...registry, text: minimal, env: {} });
    assert.deepEqual(config.storage, {
      kind: 'influx',
      retention: ['10s:1d', '1m:30d', '1h:1y'],
      influx: {
        url: 'http://127.0.0.1:8428',
        token: undefined,
        org: '',
        bucket: 'remon',
        labels: {},
        readUrl: 'http://127.0.0.1:8428',
        read: 'promql',
        bufferMaxMb: 256,
        flushIntervalMs: 1000,
        batchSize: 5000,
      },
    });
  });

  it('reads every influx key', () => {
    const text = `storage:
  kind: influx
  url: https://influx.example:8086
  token: \${TOKEN}
  org: ops
  bucket: remon
  labels: { dc: fra, env: prod }
  read_url: http://vm.example:8428/prefix
  read: promql
  buffer_max_mb: 0.5
  flush_interval: 250ms
  batch_size: 100
`;
    const { config } = loadConfig(file, { ...registry, text, env: { TOKEN: 's3cret' } });
    assert.deepEqual(config.storage.influx, {
      url: 'https://influx.example:8086',
      token: 's3cret',
      org: 'ops',
      bucket: 'remon',
      labels: { dc: 'fra', env: 'prod' },
      readUrl: 'http://vm.example:8428/prefix',
      read: 'promql',
      bufferMaxMb: 0.5,
      flushIntervalMs: 250,
      batchSize: 100,
    });
  });

  it('createStore builds the store storage.kind names', async () => {
    const data = tmpDir();
    const make = (storage: string) => {
      const { config } = loadConfig(file, { ...registry, text: `node: { data: ${data} }\n${storage}blocks: []\n`, env: {} });
      return createStore(config, { log: silentLogger() });
    };
    const memory = make('storage: { kind: memory }\n');
    assert.ok(memory instanceof MemoryStore);
    const influx = make('storage: { kind: influx, url: "http://127.0.0.1:9", bucket: b }\n');
    assert.ok(influx instanceof InfluxStore);
    assert.equal((influx as InfluxStore).options.spoolDir, path.join(data, 'influx-spool'));
    await influx.close();
    await memory.close();
  });
});
