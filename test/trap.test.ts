/**
 * Passive traps on a real node: trap blocks on a loopback UDP port, sent SNMP traps and
 * informs by Debian's `snmptrap` and `snmpinform` (v1 and v2c), and values over
 * `PUT /trap`. Each trap a block takes is a result (seen on /api/blocks and in the store)
 * and SLA tests over it fire; traps with another community are refused and not counted.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { rpcPlugin } from '../src/rpc/plugin';
import { createSlaPlugin, SlaView } from '../src/sla';
import { freePort, tmpDir, waitFor, writeConfig } from './helpers';
import { requirePeer } from './peers';
import { freeUdpPort } from './snmpd-server';

const TOKEN = 'trap-test-token';
const ENT = '1.3.6.1.4.1.99999';

const snmptrapPath = (): string | undefined => ['/usr/bin/snmptrap', '/usr/local/bin/snmptrap'].find((f) => fs.existsSync(f));

/** The net-snmp tools' own state and config go to a temp dir, never /var/lib/snmp or ~/.snmp. */
const toolDir = tmpDir('remon-snmptrap-');
const toolEnv = { ...process.env, SNMP_PERSISTENT_DIR: toolDir, SNMPCONFPATH: toolDir };

/**
 * snmp runs snmptrap or snmpinform with -m '' (no MIBs: numeric OIDs only) to its end; its
 * exit code and stderr. Asynchronously: the node answering an inform runs in this process.
 */
function snmp(tool: 'snmptrap' | 'snmpinform', args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    execFile(tool, ['-m', '', ...args], { encoding: 'utf8', env: toolEnv, timeout: 15_000 }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, err: stderr });
    });
  });
}

interface BlockView {
  name: string;
  status: string;
  lastError: string;
  fields: Record<string, number>;
  runs: number;
  output?: string;
}

describe('trap blocks on a running node (snmptrap, snmpinform, PUT /trap)', function () {
  this.timeout(60_000);
  let engine: Engine;
  let base: string;
  let udp: number;
  let busyPort: number;
  let busy: dgram.Socket;
  let received: Array<{ block: string; fields: Record<string, number>; ok: boolean; at: number }>;

  before(async function () {
    this.timeout(20_000);
    requirePeer(this, 'snmptrap', snmptrapPath() !== undefined, 'apt-get install snmp');
    const port = await freePort();
    udp = await freeUdpPort();
    // A port another program holds: the block on it says so.
    busy = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => busy.bind(0, '127.0.0.1', () => resolve()));
    busyPort = busy.address().port;
    const dir = tmpDir();
    const file = writeConfig(
      `node: { listen: "127.0.0.1:${port}", data: ./data, token: ${TOKEN} }\n` +
        'storage: { kind: memory }\n' +
        'blocks:\n' +
        // Two blocks share the receiver: ups takes ENT's traps with community public,
        // door takes any trap with community s3cret.
        `  - name: ups\n    type: trap\n    listen: 127.0.0.1:${udp}\n    oids: [${ENT}]\n` +
        `    fields: { temp: ${ENT}.2.1, load: ${ENT}.2.2 }\n    alarm: [${ENT}.0.1]\n    clear: [${ENT}.0.2]\n` +
        `  - name: door\n    type: trap\n    listen: 127.0.0.1:${udp}\n    community: [s3cret]\n    ok: "received == 1"\n` +
        // HTTP only: its value decides ok.
        '  - name: batch\n    type: trap\n    ok: "value < 10"\n' +
        `  - name: blocked\n    type: trap\n    listen: 127.0.0.1:${busyPort}\n` +
        '  - { name: web, type: shell, every: 1h, command: "true" }\n' +
        'slas:\n' +
        '  - { name: ups-quiet, test: "count(ups.received, 5m) == 0" }\n' +
        '  - { name: ups-hot, test: "last(ups.temp, 5m) < 40" }\n' +
        '  - { name: door-burst, test: "count(door.received, 1m) < 3" }\n' +
        '  - { name: batch-sum, test: "sum(batch.value, 5m) < 100" }\n',
      dir,
    );
    const load = () => loadConfig(file, registry);
    engine = new Engine({ ...load(), log: silentLogger(), plugins: [createSlaPlugin(), rpcPlugin()], loadConfig: async () => load() });
    received = [];
    engine.bus.subscribe('test', (m) => {
      if (m.result?.type === 'trap') received.push({ block: m.result.block, fields: m.result.fields, ok: m.result.ok, at: m.result.startedAt });
    });
    await engine.start();
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await engine?.stop();
    busy?.close();
  });

  const block = async (name: string): Promise<BlockView> => (await (await fetch(`${base}/api/blocks/${name}`)).json()) as BlockView;
  const sla = async (name: string): Promise<SlaView> => (await (await fetch(`${base}/api/slas/${name}`)).json()) as SlaView;
  const of = (name: string) => received.filter((r) => r.block === name);
  const put = (body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }) =>
    fetch(`${base}/trap`, { method: 'PUT', headers, body });

  it('a v2c trap becomes a sample with its varbinds as fields, and its SLA fires', async () => {
    assert.equal((await sla('ups-quiet')).state, 'unknown');
    const r = await snmp('snmptrap', ['-v', '2c', '-c', 'public', `127.0.0.1:${udp}`, '', `${ENT}.0.3`, `${ENT}.2.1`, 'i', '45', `${ENT}.2.2`, 's', '0.75']);
    assert.equal(r.code, 0, r.err);
    await waitFor(() => of('ups').length === 1, 5000, 'the trap on ups');
    const b = await block('ups');
    assert.deepEqual(b.fields, { received: 1, temp: 45, load: 0.75, up: 1 });
    assert.equal(b.status, 'ok');
    assert.match(b.output!, new RegExp(`^trap ${ENT.replace(/\./g, '\\.')}\\.0\\.3 from 127\\.0\\.0\\.1, v2c\\n`));
    // count(ups.received, 5m) == 0 fails: a trap came; ups.temp 45 is not below 40.
    await waitFor(async () => (await sla('ups-quiet')).state === 'firing', 5000, 'ups-quiet firing');
    const hot = await sla('ups-hot');
    assert.equal(hot.state, 'firing');
    assert.equal(hot.message, 'last(ups.temp, 5m) (45) < 40');
    // The samples are in the store too.
    const series = (await (await fetch(`${base}/api/series/ups.temp`)).json()) as { points: Array<[number, number | null]> };
    assert.deepEqual(series.points.map((p) => p[1]), [45]);
  });

  it('a v1 trap matches by its enterprise and specific number; an alarm trap downs the block and a clear inform brings it up', async () => {
    const n = of('ups').length;
    // v1: enterprise ENT, generic 6 (enterprise-specific), specific 1: the OID ENT.0.1 (alarm).
    let r = await snmp('snmptrap', ['-v', '1', '-c', 'public', `127.0.0.1:${udp}`, ENT, '127.0.0.1', '6', '1', '', `${ENT}.2.1`, 'i', '30']);
    assert.equal(r.code, 0, r.err);
    await waitFor(() => of('ups').length === n + 1, 5000, 'the v1 trap');
    let b = await block('ups');
    assert.equal(b.status, 'fail');
    assert.equal(b.lastError, `alarm trap: trap ${ENT}.0.1 from 127.0.0.1, v1`);
    assert.equal(b.fields.temp, 30);
    await waitFor(async () => (await sla('ups-hot')).state === 'ok', 5000, 'ups-hot ok at 30');
    // An inform is acknowledged (snmpinform exits 0 only then) and taken like a trap: a clear.
    r = await snmp('snmpinform', ['-v', '2c', '-c', 'public', '-r', '0', '-t', '3', `127.0.0.1:${udp}`, '', `${ENT}.0.2`, `${ENT}.2.1`, 'i', '20']);
    assert.equal(r.code, 0, `snmpinform got no acknowledgement: ${r.err}`);
    await waitFor(() => of('ups').length === n + 2, 5000, 'the inform');
    b = await block('ups');
    assert.equal(b.status, 'ok');
    assert.match(b.output!, /^inform /);
    assert.equal(b.fields.temp, 20);
  });

  it('traps with another community are refused and not counted; an inform with one is not acknowledged', async () => {
    const before = received.length;
    const t = await snmp('snmptrap', ['-v', '2c', '-c', 'wrong', `127.0.0.1:${udp}`, '', `${ENT}.0.3`, `${ENT}.2.1`, 'i', '99']);
    assert.equal(t.code, 0);
    const i = await snmp('snmpinform', ['-v', '2c', '-c', 'wrong', '-r', '0', '-t', '1', `127.0.0.1:${udp}`, '', `${ENT}.0.3`]);
    assert.notEqual(i.code, 0, 'an inform with a wrong community must not be acknowledged');
    // A trap each block takes, after them: when it is in, the ones before were handled.
    await snmp('snmptrap', ['-v', '2c', '-c', 's3cret', `127.0.0.1:${udp}`, '', '1.3.6.1.4.1.8072.9.9']);
    await waitFor(() => of('door').length === 1, 5000, 'the trap on door');
    assert.equal(received.length, before + 1);
    assert.notEqual((await block('ups')).fields.temp, 99);
    const traps = (await (await fetch(`${base}/api/traps`)).json()) as { receivers: Array<{ listen: string; state: string; refused: number }>; blocks: Array<{ name: string; received: number; problem: string | null }> };
    const rx = traps.receivers.find((x) => x.listen === `127.0.0.1:${udp}`)!;
    assert.equal(rx.state, 'listening');
    assert.equal(rx.refused, 2);
    assert.equal(traps.blocks.find((x) => x.name === 'door')!.received, 1);
  });

  it('survives hostile packets (garbage, truncated traps): they are counted as refused, none is taken', async () => {
    const s = dgram.createSocket('udp4');
    const sendTo = (b: Buffer) => new Promise<void>((resolve) => s.send(b, udp, '127.0.0.1', () => resolve()));
    const stats = async () => ((await (await fetch(`${base}/api/traps`)).json()) as { receivers: Array<{ listen: string; refused: number; traps: number }> })
      .receivers.find((x) => x.listen === `127.0.0.1:${udp}`)!;
    const before = await stats();
    // A real v2c trap's bytes, to cut and to flip.
    const real = Buffer.from('30450201010406733363726574a73802041c22e6da020100020100302a300f06082b0601020101030043030167643017060a2b06010603010104010006092b06010401bf080909', 'hex');
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    try {
      for (let k = 0; k < 200; k++) {
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
        if (k % 3 === 0) junk[0] = 0x30; // looks like a BER sequence
        await sendTo(junk);
        await sendTo(real.subarray(0, Math.floor(rnd() * real.length)));
      }
      await sendTo(Buffer.alloc(0));
      await sendTo(Buffer.alloc(60_000, 0x30));
    } finally {
      s.close();
    }
    // UDP: what the socket's buffer could not hold is lost. Wait until the rest is read.
    let last = -1;
    await waitFor(async () => {
      const now = (await stats()).refused;
      const still = now === last;
      last = now;
      if (!still) await new Promise((r) => setTimeout(r, 200));
      return still;
    }, 10_000, 'the receiver to drain');
    // A good trap after them still arrives: the receiver is alive.
    const n = of('door').length;
    const sent = await snmp('snmptrap', ['-v', '2c', '-c', 's3cret', `127.0.0.1:${udp}`, '', '1.3.6.1.4.1.8072.9.9']);
    assert.equal(sent.code, 0, sent.err);
    await waitFor(() => of('door').length === n + 1, 5000, `a trap after the garbage (door has ${of('door').length - n} more; ${JSON.stringify(await stats())})`);
    const after = await stats();
    // Most of the 400 were read (some may have been lost with a full socket buffer), none taken.
    assert.ok(after.refused >= before.refused + 100, `refused ${before.refused} → ${after.refused}`);
    assert.equal(after.traps, before.traps + 1);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it('traps in the same second count one each in a live SLA', async () => {
    const n = of('door').length;
    for (let k = 0; k < 3; k++) await snmp('snmptrap', ['-v', '2c', '-c', 's3cret', `127.0.0.1:${udp}`, '', '1.3.6.1.4.1.8072.9.9']);
    await waitFor(() => of('door').length === n + 3, 5000, 'three more traps on door');
    // Every trap door took (all within the minute) counts: count(door.received, 1m) < 3 fails.
    await waitFor(async () => (await sla('door-burst')).state === 'firing', 5000, 'door-burst firing');
    assert.ok(of('door').length >= 4);
    assert.equal((await sla('door-burst')).message, `count(door.received, 1m) (${of('door').length}) < 3`);
  });

  it('a block whose port another program holds is down, saying so; the others are not affected', async () => {
    const b = await block('blocked');
    assert.equal(b.status, 'fail');
    assert.equal(b.lastError, `cannot listen on udp 127.0.0.1:${busyPort}: EADDRINUSE (another program, snmptrapd perhaps, has it)`);
  });

  describe('PUT /trap', () => {
    it('takes a value for a trap block: a sample, ok by its condition, and its SLA fires on the sum', async () => {
      let res = await put(JSON.stringify({ name: 'batch', value: 4, message: 'nightly import: 4 rejects' }));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { name: 'batch', ok: true, received: 1 });
      let b = await block('batch');
      assert.deepEqual(b.fields, { received: 1, value: 4, up: 1 });
      assert.equal(b.output, 'sent over HTTP: value 4: nightly import: 4 rejects');
      res = await put(JSON.stringify({ name: 'batch', value: 120 }));
      assert.deepEqual(await res.json(), { name: 'batch', ok: false, received: 2 });
      b = await block('batch');
      assert.equal(b.lastError, 'not value < 10 (value = 120): value 120');
      await waitFor(async () => (await sla('batch-sum')).state === 'firing', 5000, 'batch-sum firing');
      assert.equal((await sla('batch-sum')).message, 'sum(batch.value, 5m) (124) < 100');
      // ok given wins over the condition; the message is the block's error.
      res = await put(JSON.stringify({ name: 'batch', value: 1, ok: false, message: 'import failed' }));
      assert.equal(res.status, 200);
      assert.equal((await block('batch')).lastError, 'import failed');
    });

    // [case, body, headers (default: token + JSON), status, error]
    const refused: Array<[string, string, Record<string, string> | undefined, number, RegExp]> = [
      ['an unknown name', '{"name":"nope","value":1}', undefined, 404, /^no trap block is named "nope"$/],
      ['a block of another type', '{"name":"web","value":1}', undefined, 404, /^block "web" is not a trap block$/],
      ['no value', '{"name":"batch"}', undefined, 400, /value/],
      ['a value that is text', '{"name":"batch","value":"7"}', undefined, 400, /^value: expected a number; got "7"/],
      ['a value too large to be finite', '{"name":"batch","value":1e999}', undefined, 400, /^value: expected a number; got Infinity$/],
      ['an unknown key', '{"name":"batch","value":1,"extra":1}', undefined, 400, /extra/],
      ['a bad name', '{"name":"../x","value":1}', undefined, 400, /^name: expected a block name/],
      ['a body that is not JSON', '{"name":', undefined, 400, /^the body is not valid JSON/],
      ['a JSON array', '[1]', undefined, 400, /^expected a JSON object as the body$/],
      ['a body over 4 kB', JSON.stringify({ name: 'batch', value: 1, message: 'x'.repeat(5000) }), undefined, 413, /^the body is larger than 4096 bytes$/],
      ['no token', '{"name":"batch","value":1}', { 'content-type': 'application/json' }, 401, /token/],
      ['a body that is not JSON by type', '{"name":"batch","value":1}', { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, 415, /JSON/],
    ];
    for (const [what, body, headers, status, error] of refused) {
      it(`refuses ${what} (${status})`, async () => {
        const before = of('batch').length;
        const res = await put(body, headers);
        const json = (await res.json()) as { error: string };
        assert.equal(res.status, status, JSON.stringify(json));
        assert.match(json.error, error);
        assert.equal(of('batch').length, before, 'nothing taken');
      });
    }

    it('is the trap.send operation over JSON-RPC too', async () => {
      const res = await fetch(`${base}/rpc`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'trap.send', params: { name: 'batch', value: 2 } }),
      });
      const json = (await res.json()) as { result: { name: string; ok: boolean } };
      assert.ok(json.result, JSON.stringify(json));
      assert.deepEqual({ name: json.result.name, ok: json.result.ok }, { name: 'batch', ok: true });
    });
  });
});
