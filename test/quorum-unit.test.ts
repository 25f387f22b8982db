import { strict as assert } from 'node:assert';
import { Bus, BusMessage } from '../src/bus';
import { realClock } from '../src/clock/clock';
import type { BlockConfig } from '../src/config/types';
import { silentLogger } from '../src/log';
import { Federation } from '../src/peers/federation';
import { Quorum } from '../src/peers/quorum';
import type { Result } from '../src/engine/result';

const block = (name: string, from: string[] | undefined): BlockConfig => ({ name, from, everyMs: 1000 } as unknown as BlockConfig);
const result = (b: string, ok: boolean): BusMessage => ({ result: { block: b, ok } as unknown as Result, samples: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** quorumOn starts a Quorum of node alpha on a real bus (no peers: beta and gamma are never heard), collecting what it publishes. */
function quorumOn(blocks: BlockConfig[]): { bus: Bus; q: Quorum; published: Array<Record<string, number>> } {
  const bus = new Bus(silentLogger());
  const published: Array<Record<string, number>> = [];
  bus.subscribe('test', (m) => { if (!m.result && m.samples.length) published.push(Object.fromEntries(m.samples.map((s) => [s.series, s.value]))); });
  const q = new Quorum({ self: 'alpha', blocks, federation: new Federation([], silentLogger()), bus, clock: realClock, log: silentLogger() });
  q.start();
  return { bus, q, published };
}

describe('quorum: the series a from: block makes on a node it lists', function () {
  this.timeout(15_000);

  it('only blocks whose from: lists this node; nothing until every location was heard or 2× every passed; unheard ones count as down', async () => {
    const { bus, q, published } = quorumOn([block('home', ['alpha', 'beta', 'gamma']), block('elsewhere', ['beta']), block('plain', undefined)]);
    try {
      bus.publish(result('home', true));
      bus.publish(result('elsewhere', true));
      await sleep(300);
      assert.deepEqual(published, [], 'beta and gamma not heard yet, within 2× every');
      assert.deepEqual(q.samples('elsewhere'), []);
      await sleep(1500);
      bus.publish(result('home', true)); // alpha's own next result keeps it fresh
      await sleep(1400); // past 2× every: the interval publishes
      assert.ok(published.length >= 1);
      assert.deepEqual(published[published.length - 1], {
        'home.loc.alpha.up': 1, 'home.loc.beta.up': 0, 'home.loc.gamma.up': 0, 'home.locations': 3, 'home.locations_up': 1, 'home.locations_down': 2,
      });
    } finally {
      q.stop();
    }
  });

  it('a flapping location is published at most once a second, the last state winning', async () => {
    const { bus, q, published } = quorumOn([block('solo', ['alpha'])]);
    try {
      bus.publish(result('solo', true));
      await sleep(50);
      assert.equal(published.length, 1);
      for (let i = 0; i < 20; i++) bus.publish(result('solo', i % 2 === 1));
      await sleep(300);
      assert.equal(published.length, 1, 'the flaps within the second wait');
      await sleep(900);
      assert.equal(published.length, 2, 'one emit for all of them');
      assert.equal(published[1]['solo.locations_up'], 1, 'the last result (up)');
      assert.equal(published[1]['solo.locations_down'], 0);
    } finally {
      q.stop();
    }
  });
});
