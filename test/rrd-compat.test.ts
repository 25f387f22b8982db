import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rrdCommand } from '../src/cli/rrd';
import { tmpDir } from './helpers';
import { requirePeer } from './peers';
import { assertSameFetch, remonRrd } from './rrd-helpers';

/**
 * remon's RRD engine against Debian's rrdtool, line by line: the same create, the same
 * updates, and every fetch must give the same timestamps and values (1e-9 relative, NaN
 * where rrdtool prints nan).
 */
const RRDTOOL = '/usr/bin/rrdtool';

function rrdtool(args: string[]): string {
  return execFileSync(RRDTOOL, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** mulberry32: a small seeded PRNG, so every stream is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE', 'DCOUNTER', 'DDERIVE'] as const;

/** scenario builds a random definition and an irregular update stream for one DS type. */
function scenario(type: (typeof TYPES)[number], seed: number) {
  const rnd = prng(seed * 7919 + TYPES.indexOf(type));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const step = pick([10, 60, 300]);
  const start = 1_600_000_000 + Math.floor(rnd() * 1_000_000);
  const heartbeat = step * pick([1, 2, 3]);
  const bounded = rnd() < 0.3;
  const [min, max] = bounded ? ['0', String(pick([50, 100, 1000]))] : ['U', 'U'];
  const ds = [`DS:a:${type}:${heartbeat}:${min}:${max}`, `DS:b:${type}:${step * 2}:U:U`];
  const xff = pick(['0', '0.25', '0.5', '0.9']);
  const rra: string[] = [];
  for (const cf of ['AVERAGE', 'MIN', 'MAX', 'LAST']) {
    rra.push(`RRA:${cf}:${xff}:1:${60 + Math.floor(rnd() * 60)}`);
    rra.push(`RRA:${cf}:${pick(['0.5', xff])}:${pick([3, 5, 12])}:${20 + Math.floor(rnd() * 30)}`);
  }
  const fractional = rnd() < 0.25;
  let t = start;
  let counterA = Math.floor(rnd() * 1e6);
  let counterB = Math.floor(rnd() * 1e6);
  const updates: string[] = [];
  const n = 150 + Math.floor(rnd() * 150);
  const value = (prev: number, which: number): [string, number] => {
    if (rnd() < 0.05) return ['U', prev];
    switch (type) {
      case 'GAUGE':
        return [(rnd() * (bounded && which === 0 ? 1200 : 500) - 20).toFixed(3), prev];
      case 'ABSOLUTE':
        return [String(Math.floor(rnd() * 5000)), prev];
      case 'COUNTER': {
        let next = prev + Math.floor(rnd() * 20000);
        if (rnd() < 0.03) next = next % 4294967296; // wrap of a 32-bit counter
        if (next >= 4294967296 && rnd() < 0.5) next -= 4294967296;
        return [String(next), next];
      }
      case 'DERIVE': {
        const next = prev + Math.floor(rnd() * 20000) - 8000;
        return [String(next), next];
      }
      case 'DCOUNTER': {
        const next = rnd() < 0.03 ? rnd() * 100 : prev + rnd() * 3000;
        return [next.toFixed(4), next];
      }
      case 'DDERIVE': {
        const next = prev + rnd() * 3000 - 1200;
        return [next.toFixed(4), next];
      }
    }
  };
  for (let i = 0; i < n; i++) {
    // Irregular gaps: sub-step bursts, normal steps, and gaps beyond the heartbeat.
    const r = rnd();
    const gap = r < 0.3 ? 1 + Math.floor(rnd() * step * 0.5) : r < 0.9 ? Math.floor(step * (0.5 + rnd())) : Math.floor(step * (2 + rnd() * 8));
    t += Math.max(1, gap);
    const stamp = fractional ? (t + Math.floor(rnd() * 1000) / 1000).toFixed(3) : String(t);
    const [va, na] = value(counterA, 0);
    const [vb, nb] = value(counterB, 1);
    counterA = na;
    counterB = nb;
    updates.push(`${stamp}:${va}:${vb}`);
  }
  return { step, start, ds, rra, updates, end: t };
}

describe('rrd: remon against rrdtool', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    requirePeer(this, 'rrdtool', fs.existsSync(RRDTOOL), 'apt-get install rrdtool');
    dir = tmpDir('remon-rrd-');
  });

  const both = (name: string, args: (file: string) => string[]): [string, string] => {
    const ours = path.join(dir, `${name}.remon`);
    const theirs = path.join(dir, `${name}.rrd`);
    return [remonRrd(args(ours)), rrdtool(args(theirs))];
  };

  it('the rrdtutorial example (COUNTER, two AVERAGE archives) fetches the same', () => {
    both('tutorial', (f) => ['create', f, '--start', '920804400', 'DS:speed:COUNTER:600:U:U', 'RRA:AVERAGE:0.5:1:24', 'RRA:AVERAGE:0.5:6:10']);
    const batches = [
      ['920804700:12345', '920805000:12357', '920805300:12363'],
      ['920805600:12363', '920805900:12363', '920806200:12373'],
      ['920806500:12383', '920806800:12393', '920807100:12399'],
      ['920807400:12405', '920807700:12411', '920808000:12415'],
      ['920808300:12420', '920808600:12422', '920808900:12423'],
    ];
    for (const b of batches) both('tutorial', (f) => ['update', f, ...b]);
    const [ours, theirs] = both('tutorial', (f) => ['fetch', f, 'AVERAGE', '--start', '920804400', '--end', '920809200']);
    assert.equal(ours, theirs, 'byte for byte');
    assert.match(ours, /920805000: 4\.0000000000e-02/);
    const [o2, t2] = both('tutorial', (f) => ['fetch', f, 'AVERAGE', '--start', '920799000', '--end', '920809200', '-r', '1800']);
    assertSameFetch(o2, t2, 'tutorial, 30-minute archive');
    assert.equal(both('tutorial', (f) => ['last', f])[0], '920808900\n');
  });

  it('the PDP calculation example: irregular updates weighted by time, unknown beyond the heartbeat', () => {
    // Step 300, heartbeat 600: updates at irregular times, one gap over the heartbeat, and
    // a step more than half unknown.
    both('pdp', (f) => ['create', f, '--start', '1000000000', '--step', '300', 'DS:g:GAUGE:600:U:U', 'RRA:AVERAGE:0.5:1:50', 'RRA:LAST:0.5:1:50', 'RRA:MAX:0.5:3:20']);
    const updates = ['1000000100:10', '1000000280:20', '1000000450:30', '1000000600:U', '1000000900:40', '1000001700:50', '1000001820:60', '1000001830:70', '1000002400:80'];
    both('pdp', (f) => ['update', f, ...updates]);
    for (const cf of ['AVERAGE', 'LAST', 'MAX']) {
      const [ours, theirs] = both('pdp', (f) => ['fetch', f, cf, '--start', '1000000000', '--end', '1000002700']);
      assert.equal(ours, theirs, cf);
    }
  });

  it('an update spanning more steps than an archive has rows wraps it as rrdtool does', () => {
    both('wrap', (f) => ['create', f, '--start', '1000000000', '--step', '60', 'DS:g:GAUGE:100000:U:U', 'DS:c:COUNTER:100000:U:U',
      'RRA:AVERAGE:0.5:1:5', 'RRA:MAX:0.5:2:4', 'RRA:LAST:0.9:3:3', 'RRA:MIN:0:1:7']);
    both('wrap', (f) => ['update', f, '1000000030:5:100', '1000000100:7:160', '1000002100:9:4000', '1000002110:U:4100', '1000009000:3:9000']);
    for (const cf of ['AVERAGE', 'MAX', 'LAST', 'MIN']) {
      const [ours, theirs] = both('wrap', (f) => ['fetch', f, cf, '--start', '999999000', '--end', '1000009500']);
      assertSameFetch(ours, theirs, `wrap ${cf}`);
    }
  });

  it('archives of one step and row count (one row group of the file) fetch the same through long runs, wraps and gaps longer than them', () => {
    const rra = (steps: number, rows: number) => ['AVERAGE', 'MIN', 'MAX', 'LAST'].map((cf) => `RRA:${cf}:0.5:${steps}:${rows}`);
    both('group', (f) => ['create', f, '--start', '1000000000', '--step', '10', 'DS:g:GAUGE:1000:U:U', 'DS:c:DERIVE:1000:U:U', ...rra(1, 12), ...rra(3, 5)]);
    let t = 1_000_000_000;
    let k = 0;
    const next = (gap: number) => {
      t += gap;
      k++;
      return `${t}:${k % 7 === 0 ? 'U' : (k * 13) % 40}:${1000 + k * k}`;
    };
    // 30 steps in one call (more rows than the archives hold), steps with sub-step updates,
    // a gap of 25 steps (every archive wraps whole in one update), then steps again.
    const calls = [
      Array.from({ length: 30 }, () => next(10)),
      [3, 7, 10, 4, 4, 2, 10, 10].map(next),
      [next(250)],
      Array.from({ length: 8 }, () => next(10)),
      [next(10)],
    ];
    for (const c of calls) both('group', (f) => ['update', f, ...c]);
    let compared = 0;
    for (const cf of ['AVERAGE', 'MIN', 'MAX', 'LAST']) {
      for (const res of ['10', '30']) {
        const [ours, theirs] = both('group', (f) => ['fetch', f, cf, '--start', '1000000000', '--end', String(t + 30), '-r', res]);
        compared += assertSameFetch(ours, theirs, `group ${cf} -r ${res}`);
      }
    }
    assert.ok(compared >= 60, `only ${compared} known values compared`);
  });

  it('times past 2^31 (2038) at a 1 s step consolidate as rrdtool does', () => {
    both('y2038', (f) => ['create', f, '--start', '2200000000', '--step', '1', 'DS:g:GAUGE:10:U:U', 'RRA:AVERAGE:0.5:3:10', 'RRA:MAX:0.5:5:10', 'RRA:LAST:0.5:1:10']);
    both('y2038', (f) => ['update', f, ...Array.from({ length: 24 }, (_, k) => `${2_200_000_001 + k}:${(k * 7) % 11}`)]);
    let compared = 0;
    for (const [cf, res] of [['AVERAGE', '3'], ['MAX', '5'], ['LAST', '1']]) {
      const [ours, theirs] = both('y2038', (f) => ['fetch', f, cf, '--start', '2199999990', '--end', '2200000030', '-r', res]);
      compared += assertSameFetch(ours, theirs, `y2038 ${cf}`);
    }
    assert.ok(compared >= 15, `only ${compared} known values compared`);
  });

  for (const type of TYPES) {
    it(`${type}: 20 seeded random irregular update streams fetch the same at every archive`, () => {
      let compared = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const s = scenario(type, seed);
        const name = `${type}-${seed}`;
        both(name, (f) => ['create', f, '--start', String(s.start), '--step', String(s.step), ...s.ds, ...s.rra]);
        // Several update calls, as a poller would make them.
        for (let i = 0; i < s.updates.length; i += 40) both(name, (f) => ['update', f, ...s.updates.slice(i, i + 40)]);
        for (const cf of ['AVERAGE', 'MIN', 'MAX', 'LAST']) {
          for (const res of ['1', String(s.step * 5)]) {
            const args = (f: string) => ['fetch', f, cf, '--start', String(s.start), '--end', String(s.end + s.step), '-r', res];
            const [ours, theirs] = both(name, args);
            compared += assertSameFetch(ours, theirs, `${name} ${cf} -r ${res}`);
          }
        }
        assert.equal(both(name, (f) => ['last', f])[0], both(name, (f) => ['last', f])[1]);
      }
      assert.ok(compared > 2000, `only ${compared} known values compared`);
    });
  }

  it('refuses an update not after the last one, as rrdtool does', () => {
    both('order', (f) => ['create', f, '--start', '1000000000', 'DS:g:GAUGE:600:U:U', 'RRA:AVERAGE:0.5:1:10']);
    both('order', (f) => ['update', f, '1000000300:1']);
    let err = '';
    const code = rrdCommand(['update', path.join(dir, 'order.remon'), '1000000300:2'], { out: () => {}, err: (t) => (err += t) });
    assert.equal(code, 1);
    const theirs = spawnSync(RRDTOOL, ['update', path.join(dir, 'order.rrd'), '1000000300:2'], { encoding: 'utf8' });
    assert.notEqual(theirs.status, 0);
    assert.match(err, /illegal attempt to update using time 1000000300 when last update time is 1000000300 \(minimum one second step\)/);
    assert.match(theirs.stderr, /minimum one second step/);
  });
});
