/**
 * The bus Gate (src/bus/gate.ts) in front of a subscriber that keeps windows (derive, SLA
 * tests): messages held while it is held, in order, bounded; a message published while
 * one is handled is handled after it, not inside it.
 */
import { strict as assert } from 'node:assert';
import { Bus, BusMessage } from '../src/bus';
import { Gate } from '../src/bus/gate';

const msg = (series: string): BusMessage => ({ samples: [{ series, t: 0, value: 1, kind: 'gauge' }] });
const names = (ms: BusMessage[]): string[] => ms.map((m) => m.samples[0].series);

describe('bus gate', () => {
  it('holds messages until the last release, then handles them in order', () => {
    const seen: BusMessage[] = [];
    const g = new Gate((m) => { seen.push(m); });
    g.hold();
    g.hold();
    g.handle(msg('a'));
    g.handle(msg('b'));
    g.release();
    assert.deepEqual(seen, [], 'one hold is left');
    assert.deepEqual(names(g.held), ['a', 'b']);
    g.release();
    g.handle(msg('c'));
    assert.deepEqual(names(seen), ['a', 'b', 'c']);
    assert.deepEqual(g.held, []);
  });

  it('drops and counts what is over the bound while held', () => {
    let drops = 0;
    const seen: BusMessage[] = [];
    const g = new Gate((m) => { seen.push(m); }, { maxHeld: 2, onDrop: () => { drops++; } });
    g.hold();
    for (const s of ['a', 'b', 'c', 'd']) g.handle(msg(s));
    g.release();
    assert.deepEqual(names(seen), ['a', 'b']);
    assert.deepEqual([g.dropped, drops], [2, 2]);
  });

  it('a message published while one is handled (the bus delivers synchronously) is handled after it', () => {
    const bus = new Bus();
    const order: string[] = [];
    const g = new Gate((m) => {
      const s = m.samples[0].series;
      order.push(`start ${s}`);
      if (s === 'a') bus.publish(msg('a.out'));
      order.push(`end ${s}`);
    });
    bus.subscribe('windows', g.handle);
    bus.publish(msg('a'));
    assert.deepEqual(order, ['start a', 'end a', 'start a.out', 'end a.out']);
  });
});
