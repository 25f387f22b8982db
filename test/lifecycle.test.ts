import { strict as assert } from 'node:assert';
import { Lifecycle } from '../src/engine/lifecycle';
import { silentLogger } from '../src/log';

describe('lifecycle', () => {
  function parts(log: string[], failStart?: string, failStop?: string) {
    const c = (name: string, after?: string[]) => ({
      name,
      after,
      start: async () => {
        if (name === failStart) throw new Error(`${name} cannot start`);
        log.push(`start ${name}`);
      },
      stop: async () => {
        log.push(`stop ${name}`);
        if (name === failStop) throw new Error(`${name} cannot stop`);
      },
    });
    // Added out of order on purpose: the order comes from `after`.
    return [c('web', ['hubs']), c('blocks', ['web']), c('store'), c('bus', ['store', 'shared']), c('shared'), c('hubs', ['bus'])];
  }

  it('starts components in the order their after lists give, and stops them in reverse', async () => {
    const log: string[] = [];
    const l = new Lifecycle(silentLogger());
    for (const c of parts(log)) l.add(c);
    assert.deepEqual(l.order().map((c) => c.name), ['store', 'shared', 'bus', 'hubs', 'web', 'blocks']);
    await l.start();
    await l.stop();
    await l.stop(); // once
    assert.deepEqual(log, [
      'start store', 'start shared', 'start bus', 'start hubs', 'start web', 'start blocks',
      'stop blocks', 'stop web', 'stop hubs', 'stop bus', 'stop shared', 'stop store',
    ]);
  });

  it('a start that fails stops everything (a store opened before start is closed too) and rethrows', async () => {
    const log: string[] = [];
    const l = new Lifecycle(silentLogger());
    for (const c of parts(log, 'web')) l.add(c);
    await assert.rejects(l.start(), /web cannot start/);
    assert.deepEqual(log, ['start store', 'start shared', 'start bus', 'start hubs',
      'stop blocks', 'stop web', 'stop hubs', 'stop bus', 'stop shared', 'stop store']);
  });

  it('a stop that fails does not keep the others from stopping', async () => {
    const log: string[] = [];
    const l = new Lifecycle(silentLogger());
    for (const c of parts(log, undefined, 'hubs')) l.add(c);
    await l.start();
    log.length = 0;
    await l.stop();
    assert.deepEqual(log, ['stop blocks', 'stop web', 'stop hubs', 'stop bus', 'stop shared', 'stop store']);
  });

  it('refuses a duplicate name, an unknown dependency and a loop', () => {
    const l = new Lifecycle(silentLogger());
    l.add({ name: 'a', after: ['b'] });
    assert.throws(() => l.add({ name: 'a' }), /a component is named "a" already/);
    assert.throws(() => l.order(), /component "a" starts after "b", which does not exist/);
    l.add({ name: 'b', after: ['c'] });
    l.add({ name: 'c', after: ['a'] });
    assert.throws(() => l.order(), /components start in a loop: a → b → c → a/);
  });
});
