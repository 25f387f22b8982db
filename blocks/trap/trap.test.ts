import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import * as snmp from 'net-snmp';
import { loadConfig } from '../../src/config/load';
import type { EmitOutput } from '../../src/engine/block';
import { realClock } from '../../src/clock';
import { silentLogger } from '../../src/log';
import { registry } from '../../src/registry';
import { decodeTrap, v1TrapOid } from './decode';
import { TrapHub } from './hub';
import { trapBlock, TrapBlockOptions } from './index';
import { compileRule, matches, parseListen, sentOutput, trapOutput } from './rule';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ENT = '1.3.6.1.4.1.318';

/** trap makes a decoded v2c trap as the receiver would hand it over. */
function trap(oid: string, varbinds: Array<[string, number, unknown]> = [], o: { community?: string; source?: string } = {}) {
  return decodeTrap({
    pdu: {
      type: snmp.PduType.TrapV2,
      community: o.community ?? 'public',
      varbinds: [
        { oid: '1.3.6.1.2.1.1.3.0', type: snmp.ObjectType.TimeTicks, value: 100 },
        { oid: '1.3.6.1.6.3.1.1.4.1.0', type: snmp.ObjectType.OID, value: oid },
        ...varbinds.map(([o2, type, value]) => ({ oid: o2, type, value })),
      ],
    },
    rinfo: { address: o.source ?? '127.0.0.1' },
  }, 1000)!;
}

const rule = (o: Omit<TrapBlockOptions, 'name'>) => {
  const c = compileRule(o);
  assert.deepEqual(c.problems, []);
  return c.rule;
};

describe('trap block', () => {
  it('sample.yaml is a valid blocks list, with SLAs over its series', () => {
    const { config } = loadConfig(path.join(ROOT, 'blocks', 'trap', 'sample.yaml'), registry);
    assert.deepEqual(config.blocks.map((b) => [b.name, b.type]), [['ups', 'trap'], ['links', 'trap'], ['import', 'trap']]);
  });

  it('is passive, and its fields are received, value and those it maps', () => {
    assert.equal(trapBlock.passive, true);
    assert.deepEqual(trapBlock.fields!({ name: 'x', fields: { temp: '1.2.3' } }), ['received', 'value', 'temp']);
  });

  // [case, options, problems]
  const checks: Array<[string, Record<string, unknown>, Array<[string, string]>]> = [
    ['HTTP only', {}, []],
    ['a receiver', { listen: '127.0.0.1:1162', community: ['a', 'b'], oids: ['.1.3.6.1.4.1.318'], fields: { up_s: 'sysUpTime' } }, []],
    ['every', { every: '10s' }, [['every', 'a trap block is sent traps, not run; remove every']]],
    ['a listen without port', { listen: '127.0.0.1' }, [['listen', 'expected host:port, e.g. 127.0.0.1:1162 ([::1]:1162 for IPv6)']]],
    ['a port out of range', { listen: '127.0.0.1:70000' }, [['listen', 'port 70000 is out of range; expected 1-65535']]],
    ['a bad OID', { oids: ['1.3.x'] }, [['oids.0', 'expected a numeric OID like 1.3.6.1.2.1.1.3.0 or a name like sysUpTime; got "1.3.x"']]],
    ['a reserved field', { fields: { received: '1.2.3' } }, [['fields.received', 'field name "received" is the block\'s own series; choose another']]],
    ['an ok over an unknown field', { ok: 'temp < 40' }, [['ok', '"temp" is not a field of this block; expected one of: received, value']]],
    ['an ok that does not parse', { ok: 'value <' }, [['ok', 'is not a condition: expected a value after "<", found the end of the expression']]],
  ];
  for (const [name, o, want] of checks) it(`check: ${name}`, () => assert.deepEqual(trapBlock.check!({ name: 't', ...o } as TrapBlockOptions), want));

  it('parseListen reads IPv4 and IPv6 addresses', () => {
    assert.deepEqual(parseListen('[::1]:1162'), { host: '::1', port: 1162, key: '[::1]:1162', family: 'udp6' });
    assert.deepEqual(parseListen('0.0.0.0:162'), { host: '0.0.0.0', port: 162, key: '0.0.0.0:162', family: 'udp4' });
  });

  it('v1 traps get their RFC 3584 OIDs', () => {
    assert.equal(v1TrapOid(ENT, 6, 5), `${ENT}.0.5`);
    assert.equal(v1TrapOid(ENT, 2, 0), '1.3.6.1.6.3.1.1.5.3'); // linkDown
    assert.equal(v1TrapOid(ENT, 0, 0), '1.3.6.1.6.3.1.1.5.1'); // coldStart
  });

  it('matches by community, agent and OID prefix (not a longer number)', () => {
    const r = rule({ community: 'c1', agents: ['192.0.2.7'], oids: [ENT] });
    assert.equal(matches(r, trap(`${ENT}.0.5`, [], { community: 'c1', source: '192.0.2.7' })), true);
    assert.equal(matches(r, trap(`${ENT}.0.5`, [], { community: 'public', source: '192.0.2.7' })), false);
    assert.equal(matches(r, trap(`${ENT}.0.5`, [], { community: 'c1', source: '192.0.2.8' })), false);
    assert.equal(matches(r, trap('1.3.6.1.4.1.3180.0.5', [], { community: 'c1', source: '192.0.2.7' })), false);
  });

  it('maps varbinds to fields (an instance below the OID too), alarm downs, clear ups, others keep the state', () => {
    const r = rule({ fields: { temp: `${ENT}.2.2`, name: `${ENT}.2.9` }, alarm: [`${ENT}.0.5`], clear: [`${ENT}.0.9`] });
    const alarm = trapOutput(r, trap(`${ENT}.0.5`, [[`${ENT}.2.2.0`, snmp.ObjectType.Integer, 41], [`${ENT}.2.9`, snmp.ObjectType.OctetString, Buffer.from('ups1')]]), true);
    assert.deepEqual([alarm.ok, alarm.fields, alarm.at], [false, { received: 1, temp: 41 }, 1000]);
    assert.equal(alarm.message, `alarm trap: trap ${ENT}.0.5 from 127.0.0.1, v2c`);
    assert.equal(alarm.output, `trap ${ENT}.0.5 from 127.0.0.1, v2c\n  ${ENT}.2.2.0 = 41\n  ${ENT}.2.9 = ups1\nname (${ENT}.2.9): not a number: OctetString "ups1"`);
    const other = trapOutput(r, trap(`${ENT}.0.7`), false);
    assert.deepEqual([other.ok, other.message], [false, `down since an earlier trap: trap ${ENT}.0.7 from 127.0.0.1, v2c`]);
    assert.equal(trapOutput(r, trap(`${ENT}.0.9`), false).ok, true);
  });

  it('an ok condition over the fields; a field the trap lacks does not meet it', () => {
    const r = rule({ fields: { temp: `${ENT}.2.2` }, ok: 'temp < 40' });
    assert.equal(trapOutput(r, trap(`${ENT}.0.1`, [[`${ENT}.2.2`, snmp.ObjectType.Integer, 30]]), true).ok, true);
    const hot = trapOutput(r, trap(`${ENT}.0.1`, [[`${ENT}.2.2`, snmp.ObjectType.Integer, 45]]), true);
    assert.equal(hot.message, `not temp < 40 (temp = 45): trap ${ENT}.0.1 from 127.0.0.1, v2c`);
    assert.equal(trapOutput(r, trap(`${ENT}.0.1`), true).message, `not temp < 40 (temp = none): trap ${ENT}.0.1 from 127.0.0.1, v2c`);
  });

  it('a sent trap: ok given wins; its message is the error', () => {
    const r = rule({ ok: 'value < 10' });
    assert.deepEqual(sentOutput(r, { value: 3 }, 5, true), { ok: true, fields: { received: 1, value: 3 }, at: 5, output: 'sent over HTTP: value 3' });
    assert.equal(sentOutput(r, { value: 30 }, 5, true).message, 'not value < 10 (value = 30): value 30');
    assert.equal(sentOutput(r, { value: 3, ok: false, message: 'broken' }, 5, true).message, 'broken');
  });

  describe('hub', () => {
    const env = (token?: string) => ({
      config: { node: { token } } as never, clock: realClock, log: silentLogger(), hasBlock: () => false, addBlock: () => undefined,
    });

    it('a non-loopback listen without node.token does not listen, and says so on its block', async () => {
      const hub = new TrapHub(env());
      const out: EmitOutput[] = [];
      hub.attach('ups', { listen: '0.0.0.0:1162' }, (o) => out.push(o));
      await hub.start();
      try {
        assert.deepEqual(out, [{ ok: false, message: '0.0.0.0 is not a loopback address; set node.token to receive traps from other machines, or listen on 127.0.0.1' }]);
        assert.deepEqual(hub.list().receivers, []);
      } finally {
        await hub.stop();
      }
    });

    it('one receiver per address, shared; closed when its last block goes', async () => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
      const port = s.address().port;
      await new Promise<void>((resolve) => s.close(() => resolve()));
      const hub = new TrapHub(env());
      const a = (): void => undefined;
      const b = (): void => undefined;
      hub.attach('a', { listen: `127.0.0.1:${port}` }, a);
      hub.attach('b', { listen: `127.0.0.1:${port}`, community: 'other' }, b);
      await hub.start();
      try {
        assert.deepEqual(hub.list().receivers.map((r) => [r.listen, r.state]), [[`127.0.0.1:${port}`, 'listening']]);
        hub.detach('a', a);
        await hub.sync();
        assert.equal(hub.list().receivers.length, 1);
        hub.detach('b', () => undefined); // not its emit: a newer instance; kept
        hub.detach('b', b);
        await hub.sync();
        assert.deepEqual(hub.list().receivers, []);
      } finally {
        await hub.stop();
      }
    });
  });
});
