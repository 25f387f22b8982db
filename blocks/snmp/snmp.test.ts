import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as snmp from 'net-snmp';
import { loadConfig } from '../../src/config/load';
import { BlockInstance, RunOutput } from '../../src/engine/block';
import { Engine } from '../../src/engine/engine';
import { silentLogger } from '../../src/log';
import { registry } from '../../src/registry';
import { createMemoryShared } from '../../src/shared/memory';
import { tmpDir } from '../../test/helpers';
import { requirePeer } from '../../test/peers';
import { PASS_BASE, Snmpd, SNMPD_V3, snmpdPath, startSnmpd } from '../../test/snmpd-server';
import { numeric, requestTimeoutMs, sanitize, snmpBlock, SnmpOptions } from './index';
import { resolveColumnOid, resolveGetOid, resolveTableOid } from './oids';

type Opts = Omit<SnmpOptions, 'name'>;

function create(options: Opts): BlockInstance {
  assert.deepEqual(snmpBlock.check!({ name: 's', ...options }), [], 'the test config must be valid');
  const log = silentLogger();
  return snmpBlock.create({ name: 's', ...options }, { name: 's', configDir: '/', dataDir: '/', log, emit: () => undefined });
}

async function runBlock(block: BlockInstance, signal?: AbortSignal): Promise<RunOutput & { fields: Record<string, number> }> {
  const out = await block.run({ signal: signal ?? new AbortController().signal, log: silentLogger(), shared: createMemoryShared() });
  return { ...out, fields: out.fields ?? {} };
}

async function run(options: Opts, signal?: AbortSignal): Promise<RunOutput & { fields: Record<string, number> }> {
  const block = create(options);
  try {
    return await runBlock(block, signal);
  } finally {
    await block.close?.();
  }
}

describe('snmp block', () => {
  it('sample.yaml is a valid blocks list', () => {
    const file = path.resolve(__dirname, '..', '..', '..', 'blocks', 'snmp', 'sample.yaml');
    const { config } = loadConfig(file, { ...registry, env: { SNMP_AUTH_KEY: 'auth-key-1', SNMP_PRIV_KEY: 'priv-key-1' } });
    assert.deepEqual(config.blocks.map((b) => b.name), ['gw', 'core-switch', 'ups']);
    assert.ok(config.blocks.every((b) => b.type === 'snmp'));
  });

  describe('OID names', () => {
    const gets: Array<[string, string]> = [
      ['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.3.0'],
      ['.1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.3.0'],
      ['sysUpTime', '1.3.6.1.2.1.1.3.0'],
      ['sysUpTime.0', '1.3.6.1.2.1.1.3.0'],
      ['ifInOctets.2', '1.3.6.1.2.1.2.2.1.10.2'],
      ['ifHCInOctets.7', '1.3.6.1.2.1.31.1.1.1.6.7'],
      ['memAvailReal', '1.3.6.1.4.1.2021.4.6.0'],
    ];
    for (const [text, oid] of gets) it(`get ${text}`, () => assert.equal(resolveGetOid(text), oid));

    const badGets: Array<[string, string]> = [
      ['sysUptime', 'unknown OID name "sysUptime"; did you mean "sysUpTime"? write a numeric OID like 1.3.6.1.2.1.1.3.0'],
      ['ifInOctets', 'ifInOctets is a table column; name a row (e.g. ifInOctets.1) or walk ifTable'],
      ['ifTable', 'ifTable is a table; read it with walk: [{ table: ifTable, columns: {...} }]'],
      ['1.3.6.x', 'expected a numeric OID like 1.3.6.1.2.1.1.3.0 or a name like sysUpTime; got "1.3.6.x"'],
    ];
    for (const [text, msg] of badGets) it(`rejects get ${text}`, () => assert.throws(() => resolveGetOid(text), { message: msg }));

    it('tables and columns', () => {
      assert.equal(resolveTableOid('ifTable'), '1.3.6.1.2.1.2.2');
      assert.equal(resolveTableOid('1.3.6.1.4.1.99999.10'), '1.3.6.1.4.1.99999.10');
      assert.equal(resolveColumnOid('1.3.6.1.2.1.2.2', 'ifDescr'), '1.3.6.1.2.1.2.2.1.2');
      assert.equal(resolveColumnOid('1.3.6.1.2.1.2.2', 10), '1.3.6.1.2.1.2.2.1.10');
      assert.equal(resolveColumnOid('1.3.6.1.2.1.2.2', '1.3.6.1.2.1.2.2.1.16'), '1.3.6.1.2.1.2.2.1.16');
      assert.throws(() => resolveTableOid('sysUpTime'), { message: 'sysUpTime is not a table; tables have names like ifTable, hrStorageTable' });
      assert.throws(() => resolveColumnOid('1.3.6.1.2.1.2.2', 'ifHCInOctets'), { message: 'ifHCInOctets is a column of ifXTable, not of this table' });
      assert.throws(() => resolveColumnOid('1.3.6.1.2.1.2.2', '1.3.6.1.2.1.2.3.1.1'),
        { message: '1.3.6.1.2.1.2.3.1.1 is not a column of the table 1.3.6.1.2.1.2.2 (columns are 1.3.6.1.2.1.2.2.1.N)' });
    });

    it('sanitizes row labels for series names', () => {
      assert.equal(sanitize('GigabitEthernet0/1.100'), 'GigabitEthernet0_1_100');
      assert.equal(sanitize('wan link'), 'wan_link');
    });
  });

  describe('values', () => {
    const T = snmp.ObjectType;
    const cases: Array<[string, snmp.Varbind, ReturnType<typeof numeric>]> = [
      ['Counter32 is a counter', { oid: '1', type: T.Counter, value: 4000000000 }, { value: 4000000000, kind: 'counter' }],
      ['Counter64 (a buffer) is a counter', { oid: '1', type: T.Counter64, value: Buffer.from('001cbe991a14', 'hex') }, { value: 123456789012, kind: 'counter' }],
      ['Gauge32 is a gauge', { oid: '1', type: T.Gauge, value: 42 }, { value: 42, kind: 'gauge' }],
      ['Integer32 is a gauge', { oid: '1', type: T.Integer, value: -7 }, { value: -7, kind: 'gauge' }],
      ['TimeTicks is a gauge', { oid: '1', type: T.TimeTicks, value: 12345 }, { value: 12345, kind: 'gauge' }],
      ['numeric text is a gauge', { oid: '1', type: T.OctetString, value: Buffer.from('0.52') }, { value: 0.52, kind: 'gauge' }],
      ['other text is not a number', { oid: '1', type: T.OctetString, value: Buffer.from('lo') }, { why: 'not a number: OctetString "lo"' }],
      ['an IP address is not a number', { oid: '1', type: T.IpAddress, value: '10.0.0.1' }, { why: 'not a number: IpAddress "10.0.0.1"' }],
    ];
    for (const [name, vb, want] of cases) it(name, () => assert.deepEqual(numeric(vb), want));

    it('request_timeout defaults to what fits the run timeout, at most 1s', () => {
      assert.equal(requestTimeoutMs({ name: 's', host: 'h' }), 1000);
      assert.equal(requestTimeoutMs({ name: 's', host: 'h', every: '1s' }), 475);
      assert.equal(requestTimeoutMs({ name: 's', host: 'h', timeout: '2s', retries: 3 }), 475);
      assert.equal(requestTimeoutMs({ name: 's', host: 'h', request_timeout: '3s' }), 3000);
    });
  });

  describe('check', () => {
    const get = { up: 'sysUpTime' };
    const cases: Array<[string, Partial<Opts>, Array<[string, string]>]> = [
      ['v2c with get and walk', { get, walk: [{ table: 'ifTable', label: 'ifDescr', columns: { in: 'ifInOctets', out: 16 }, include: '^eth' }] }, []],
      ['v3 authPriv', { version: 3, user: 'u', auth_key: '12345678', priv_key: '12345678', get }, []],
      ['nothing to read', {}, [['', 'nothing to read: add get: (OIDs) or walk: (tables)']]],
      ['v3 without a user', { version: 3, get }, [['', 'version 3 needs user (and usually auth_key and priv_key)']]],
      ['a community with v3', { version: 3, user: 'u', community: 'x', get }, [['community', 'is for versions 1 and 2c; version 3 authenticates with user, auth_key and priv_key']]],
      ['priv without auth', { version: 3, user: 'u', priv_key: '12345678', get }, [['priv_key', 'needs auth_key too (SNMPv3 has no privacy without authentication)']]],
      ['v3 keys with v2c', { auth_key: '12345678', get }, [['auth_key', 'is for version 3; version 2c authenticates with community']]],
      ['max_repetitions with v1', { version: 1, max_repetitions: 5, get }, [['max_repetitions', 'has no effect with version 1 (it has no GETBULK)']]],
      ['request_timeout past the run timeout', { timeout: '2s', request_timeout: '1500ms', get },
        [['request_timeout', "2 tries of 1s500ms do not fit in the run's timeout of 2s; lower request_timeout or retries, or raise timeout"]]],
      ['an unknown name', { get: { up: 'sysUptime' } }, [['get.up', 'unknown OID name "sysUptime"; did you mean "sysUpTime"? write a numeric OID like 1.3.6.1.2.1.1.3.0']]],
      ['a bad field name', { get: { 'up-time': 'sysUpTime' } }, [['get', 'field name "up-time" must be letters, digits and _ (not starting with a digit)']]],
      ['a column of another table', { walk: [{ table: 'ifTable', columns: { in: 'ifHCInOctets' } }] },
        [['walk.0.columns.in', 'ifHCInOctets is a column of ifXTable, not of this table']]],
      ['a bad label', { walk: [{ table: 'ifTable', label: 'ifName', columns: { in: 10 } }] },
        [['walk.0.label', 'ifName is a column of ifXTable, not of this table; or write index to name rows by their index']]],
      ['a bad include', { walk: [{ table: 'ifTable', columns: { in: 10 }, include: '(' }] },
        [['walk.0.include', 'is not a valid regular expression: Invalid regular expression: /(/: Unterminated group']]],
      ['one field in two walks', { walk: [{ table: 'ifTable', columns: { in: 10 } }, { table: 'ifXTable', columns: { in: 6 } }] },
        [['walk.1.columns', 'field name "in" is used by walk[0] too; series would clash']]],
    ];
    for (const [name, o, want] of cases) it(name, () => assert.deepEqual(snmpBlock.check!({ name: 's', host: '127.0.0.1', ...o }), want));
  });

  describe('against snmpd', function () {
    this.timeout(30_000);
    let agent: Snmpd;
    let target: string;
    let v2: Opts;
    const pass = (suffix: string): string => `${PASS_BASE}.${suffix}`;
    const v3 = (o: Partial<Opts>): Opts => ({ host: agent.host, port: agent.port, version: 3, user: SNMPD_V3.user, auth_key: SNMPD_V3.authKey, priv_key: SNMPD_V3.privKey, ...o });

    before(async function () {
      requirePeer(this, 'snmpd', snmpdPath() !== undefined, 'apt-get install snmpd snmp');
      agent = await startSnmpd();
      target = `${agent.host}:${agent.port}`;
      v2 = { host: agent.host, port: agent.port, community: agent.community };
      // A small table under PASS_BASE.10: labels in column 2, a counter in 3, a gauge in 4.
      const rows: Array<[string, string, number, number]> = [['1', 'eth0', 100, 10], ['2', 'wan link', 200, 20], ['3', 'eth0', 300, 30], ['20.5', 'x/y', 400, 40]];
      for (const [index, label, c, g] of rows) {
        agent.setValue(`10.1.2.${index}`, 'string', label);
        agent.setValue(`10.1.3.${index}`, 'counter', c);
        agent.setValue(`10.1.4.${index}`, 'gauge', g);
      }
      agent.setValue('6.0', 'string', 'hello');
    });
    after(async () => {
      await agent?.stop();
    });

    const scalars = (c32: number, c64: string, gauge: number, int: number, ticks: number): void => {
      agent.setValue('1.0', 'counter', c32);
      agent.setValue('2.0', 'counter64', c64);
      agent.setValue('3.0', 'gauge', gauge);
      agent.setValue('4.0', 'integer', int);
      agent.setValue('5.0', 'timeticks', ticks);
    };
    const get = { c32: pass('1.0'), c64: pass('2.0'), gauge: pass('3.0'), int: pass('4.0'), ticks: pass('5.0') };
    const kinds = { c32: 'counter', c64: 'counter' };

    it('v2c: values the test sets round-trip, counters as counters', async () => {
      scalars(4000000000, '123456789012', 42, -7, 12345);
      const r = await run({ ...v2, get });
      assert.equal(r.ok, true, r.message);
      assert.deepEqual(r.fields, { c32: 4000000000, c64: 123456789012, gauge: 42, int: -7, ticks: 12345 });
      assert.deepEqual(r.kinds, kinds);
      assert.match(r.output!, /^c32 = 4000000000 {2}\(Counter32 1\.3\.6\.1\.4\.1\.99999\.1\.0\)\nc64 = 123456789012 {2}\(Counter64 /);
      scalars(17, '1099511627781', 0, 2147483647, 0);
      const again = await run({ ...v2, get });
      assert.deepEqual(again.fields, { c32: 17, c64: 1099511627781, gauge: 0, int: 2147483647, ticks: 0 });
    });

    it('v1 and v3 (authPriv SHA/AES, authNoPriv) read the same values', async () => {
      scalars(5, '6', 7, 8, 9);
      const want = { c32: 5, c64: 6, gauge: 7, int: 8, ticks: 9 };
      // SNMPv1 has no Counter64: the agent leaves it out of a v1 answer.
      const { c64: _c64, ...v1get } = get;
      const v1 = await run({ ...v2, version: 1, get: v1get });
      assert.deepEqual([v1.ok, v1.fields], [true, { c32: 5, gauge: 7, int: 8, ticks: 9 }]);
      const authPriv = await run(v3({ get }));
      assert.deepEqual([authPriv.ok, authPriv.fields, authPriv.kinds], [true, want, kinds]);
      const authNoPriv = await run(v3({ user: SNMPD_V3.authUser, priv_key: undefined, get }));
      assert.deepEqual([authNoPriv.ok, authNoPriv.fields], [true, want]);
    });

    it('reads sysUpTime by name, and it goes up', async () => {
      const block = create({ ...v2, get: { uptime: 'sysUpTime' } });
      try {
        const a = await runBlock(block);
        await new Promise((r) => setTimeout(r, 120));
        const b = await runBlock(block);
        assert.equal(a.ok, true, a.message);
        assert.ok(a.fields.uptime > 0);
        assert.ok(b.fields.uptime > a.fields.uptime, `${b.fields.uptime} after ${a.fields.uptime}`);
        assert.equal(a.kinds, undefined, 'timeticks are a gauge');
      } finally {
        await block.close?.();
      }
    });

    it('walks ifTable: one series per interface, named by ifDescr (lo at least)', async () => {
      const mtu = Number(fs.readFileSync('/sys/class/net/lo/mtu', 'utf8'));
      const ifindex = Number(fs.readFileSync('/sys/class/net/lo/ifindex', 'utf8'));
      const walk = [{ table: 'ifTable', label: 'ifDescr', columns: { mtu: 'ifMtu', in: 'ifInOctets', oper: 'ifOperStatus' } }];
      const block = create({ ...v2, walk });
      try {
        const a = await runBlock(block);
        assert.equal(a.ok, true, a.message);
        assert.equal(a.fields.mtu_lo, mtu);
        assert.equal(a.kinds!.in_lo, 'counter');
        assert.equal(a.kinds!.mtu_lo, undefined);
        // ifInOctets is the kernel's rx_bytes of lo, modulo 2^32, as snmpd last cached it
        // (it caches interface statistics for a few seconds).
        const rx = Number(fs.readFileSync('/sys/class/net/lo/statistics/rx_bytes', 'utf8'));
        const behind = (((rx - a.fields.in_lo) % 2 ** 32) + 2 ** 32) % 2 ** 32;
        assert.ok(behind < 1e9, `in_lo ${a.fields.in_lo} vs rx_bytes ${rx}`);
      } finally {
        await block.close?.();
      }
      const byIndex = await run({ ...v2, walk: [{ table: 'ifTable', columns: { mtu: 'ifMtu' } }] });
      assert.equal(byIndex.fields[`mtu_${ifindex}`], mtu);
    });

    it('walks a table the test controls: labels sanitized and made unique, include filters', async () => {
      const walk = [{ table: pass('10'), label: 2, columns: { bytes: 3, level: 4 } }];
      const want = {
        bytes_eth0: 100, bytes_wan_link: 200, bytes_eth0_3: 300, bytes_x_y: 400,
        level_eth0: 10, level_wan_link: 20, level_eth0_3: 30, level_x_y: 40,
      };
      const bulk = await run({ ...v2, walk });
      assert.deepEqual([bulk.ok, bulk.fields], [true, want], bulk.message);
      assert.deepEqual(bulk.kinds, { bytes_eth0: 'counter', bytes_wan_link: 'counter', bytes_eth0_3: 'counter', bytes_x_y: 'counter' });
      // Several GETBULKs, GETNEXT (v1) and v3 give the same table.
      assert.deepEqual((await run({ ...v2, walk, max_repetitions: 1 })).fields, want);
      assert.deepEqual((await run({ ...v2, version: 1, walk })).fields, want);
      assert.deepEqual((await run(v3({ walk, max_repetitions: 3 }))).fields, want);
      const filtered = await run({ ...v2, walk: [{ ...walk[0], include: '^eth', columns: { bytes: 3 } }] });
      assert.deepEqual(filtered.fields, { bytes_eth0: 100, bytes_eth0_3: 300 });
      const byIndex = await run({ ...v2, walk: [{ table: pass('10'), columns: { level: 4 } }] });
      assert.deepEqual(byIndex.fields, { level_1: 10, level_2: 20, level_3: 30, level_20_5: 40 });
    });

    it('names each missing or non-numeric OID, and keeps the other values (v2c and v1)', async () => {
      scalars(1, '2', 3, 4, 5);
      const o = { get: { c32: pass('1.0'), gone: pass('99.0'), word: pass('6.0'), nothing: '1.3.6.1.2.1.999.0' } };
      const r2 = await run({ ...v2, ...o });
      assert.equal(r2.ok, false);
      assert.deepEqual(r2.fields, { c32: 1 });
      assert.equal(r2.message, `snmp ${target}: gone (${pass('99.0')}): no such instance; word (${pass('6.0')}): not a number: OctetString "hello"; ` +
        'nothing (1.3.6.1.2.1.999.0): no such object');
      const r1 = await run({ ...v2, version: 1, ...o });
      assert.deepEqual(r1.fields, { c32: 1 });
      assert.equal(r1.message, `snmp ${target}: gone (${pass('99.0')}): no such name; word (${pass('6.0')}): not a number: OctetString "hello"; ` +
        'nothing (1.3.6.1.2.1.999.0): no such name');
    });

    it('fails a walk of a table the agent does not have, or whose rows include filters out', async () => {
      const none = await run({ ...v2, walk: [{ table: '1.3.6.1.4.1.99998', columns: { x: 2 } }] });
      assert.deepEqual([none.ok, none.message], [false, `snmp ${target}: 1.3.6.1.4.1.99998 (1.3.6.1.4.1.99998): no rows (is it a table this agent has?)`]);
      const filtered = await run({ ...v2, walk: [{ table: pass('10'), label: 2, include: '^ppp', columns: { x: 3 } }] });
      assert.equal(filtered.message, `snmp ${target}: ${pass('10')}: no row matches include /^ppp/ (rows: "eth0", "wan link", "eth0", "x/y")`);
    });

    it('a wrong community is a timeout that says so', async () => {
      const started = Date.now();
      const r = await run({ ...v2, community: 'wrong', get: { up: 'sysUpTime' }, request_timeout: '200ms', retries: 1 });
      const took = Date.now() - started;
      assert.deepEqual([r.ok, r.message], [false, `snmp ${target}: no answer after 2 tries of 200ms (wrong community, or no agent there)`]);
      assert.ok(took >= 350 && took < 3000, `took ${took} ms`);
    });

    it('v3: a wrong auth_key, an unknown user and a wrong priv_key each say what to check', async () => {
      const get1 = { get: { up: 'sysUpTime' } };
      const badAuth = await run(v3({ ...get1, auth_key: 'wrongpass123' }));
      assert.deepEqual([badAuth.ok, badAuth.message], [false, `snmp ${target}: authentication failure (check auth_key and the user)`]);
      const badUser = await run(v3({ ...get1, user: 'nobody' }));
      assert.equal(badUser.message, `snmp ${target}: unknown user "nobody" (check user)`);
      const badPriv = await run(v3({ ...get1, priv_key: 'wrongpriv123', request_timeout: '200ms', retries: 0 }));
      assert.equal(badPriv.message, `snmp ${target}: no answer after 1 try of 200ms (no agent there, or a wrong priv_key: the agent drops what it cannot decrypt)`);
    });

    it('v3: recovers by itself after the agent restarts', async () => {
      const block = create(v3({ get: { up: 'sysUpTime' } }));
      try {
        assert.equal((await runBlock(block)).ok, true);
        await agent.restart();
        const results: RunOutput[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await runBlock(block);
          results.push(r);
          if (r.ok) break;
        }
        assert.equal(results[results.length - 1].ok, true, results.map((r) => r.message).join(' | '));
        assert.ok(results.length <= 2, `took ${results.length} runs: ${results.map((r) => r.message).join(' | ')}`);
      } finally {
        await block.close?.();
      }
    });

    it('stops at once when the run is aborted', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const started = Date.now();
      const r = await run({ ...v2, community: 'wrong', get: { up: 'sysUpTime' }, request_timeout: '5s', retries: 0, timeout: '10s' }, ac.signal);
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.deepEqual([r.ok, r.message], [false, `snmp ${target}: aborted`]);
    });

    it('in monitor.yaml: the engine stores counters as COUNTER series (rates) and gauges as GAUGE', async () => {
      const dir = tmpDir('remon-snmp-engine-');
      const text = `node: { data: ${dir}/data }
storage: { kind: rrd, retention: [1s:1h] }
blocks:
  - name: agent
    type: snmp
    mode: on-demand
    host: ${agent.host}
    port: ${agent.port}
    community: ${agent.community}
    get: { octets: ${pass('1.0')}, temp: ${pass('3.0')} }
`;
      const loaded = loadConfig(path.join(dir, 'monitor.yaml'), { ...registry, text });
      const engine = new Engine({ ...loaded, log: silentLogger(), web: false });
      await engine.start();
      try {
        agent.setValue('1.0', 'counter', 1000);
        agent.setValue('3.0', 'gauge', 21);
        const a = await engine.runNow('agent');
        await new Promise((r) => setTimeout(r, 2100));
        agent.setValue('1.0', 'counter', 1010);
        const b = await engine.runNow('agent');
        assert.deepEqual([a.ok, b.ok, b.fields], [true, true, { octets: 1010, temp: 21 }], `${a.message} ${b.message}`);
        await engine.store.flush();
        // Stored as a rate (10 in about 2 s: at most 5/s; rrdtool spreads it over the steps
        // it touches), not as the raw value of about 1000.
        const points = (await engine.store.fetch('agent.octets', { from: a.startedAt, to: b.startedAt + 1000 })).points.filter((p) => p[1] !== null);
        const rate = 10 / ((b.startedAt - a.startedAt) / 1000);
        assert.ok(points.length > 0, 'the counter has rate points');
        for (const [, v] of points) assert.ok((v as number) > 0 && (v as number) <= rate * 1.01, `rate ${v}, expected at most ${rate}/s`);
        const temps = (await engine.store.fetch('agent.temp', { from: a.startedAt - 1000, to: b.startedAt + 1000 })).points.filter((p) => p[1] !== null);
        assert.ok(temps.length > 0 && temps.every(([, v]) => Math.abs((v as number) - 21) < 1e-9), JSON.stringify(temps));
      } finally {
        await engine.stop();
      }
      const info = (series: string): string => {
        const r = spawnSync(process.execPath, [path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js'), 'rrd', 'info', path.join(dir, 'data', 'rrd', `${series}.rrd`)], { encoding: 'utf8' });
        return r.stdout;
      };
      assert.match(info('agent.octets'), /^ds\[value\]\.type = "COUNTER"$/m);
      assert.match(info('agent.temp'), /^ds\[value\]\.type = "GAUGE"$/m);
    });
  });
});
