import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileSeries, HoltWinters, HwOutput } from '../src/series';
import { tmpDir } from './helpers';
import { requirePeer } from './peers';

/**
 * remon's Holt-Winters (src/series/holt-winters.ts, holt_winters() in expressions) against
 * Debian's rrdtool 1.7: the same input fed to an RRD with HWPREDICT, SEASONAL,
 * DEVSEASONAL, DEVPREDICT and FAILURES archives with `rrdtool update`, read back with
 * `rrdtool fetch`, compared step by step.
 *
 * Tolerance: 1e-9 relative (rrdtool fetch prints 11 significant digits); failures exactly.
 * Updates go one per `rrdtool update` command (through `rrdtool -`), as a collector sends
 * them: several values in one command smooth the seasonal arrays differently (rrdtool's
 * smoother then reads rows written earlier in the same command as they were before it).
 * rrdtool starts each new file's seasonal arrays at a random row and smooths them at a row
 * hashed from the file name; the test reads both from the file (`info`, `dump`) and gives
 * them to the model, which otherwise starts the season at the first sample.
 */
const RRDTOOL = '/usr/bin/rrdtool';
const T0 = 1_700_000_000;
const STEP = 10;
const TOLERANCE = 1e-9;

interface Scenario {
  name: string;
  season: number;
  samples: number;
  alpha: number;
  beta: number;
  gamma: number;
  /** Compare holt_winters() in an expression too (its season starts at the first sample: only without smoothing, season < 40). */
  expression?: boolean;
}

const scenarios: Scenario[] = [
  { name: 'a season of 12 (too short to smooth), rrdtool\'s defaults, through holt_winters()', season: 12, samples: 400, alpha: 0.1, beta: 1 / 288, gamma: 0.1, expression: true },
  { name: 'a season of 100 (smoothed over 5 rows)', season: 100, samples: 1000, alpha: 0.1, beta: 0.0035, gamma: 0.1 },
  { name: 'a season of 288 (a day of 5 min rows), faster learning', season: 288, samples: 3000, alpha: 0.3, beta: 0.01, gamma: 0.2 },
];

/** input: a seasonal signal with noise, one unknown value, and a burst the model should flag. */
function input(season: number, n: number): number[] {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: n }, (_, k) => {
    if (k === Math.floor(n * 0.4)) return NaN;
    const burst = k > n - 60 && k < n - 40 ? 80 : 0;
    return 100 + 30 * Math.sin((2 * Math.PI * k) / season) + 5 * rnd() + burst;
  });
}

function rrdtool(args: string[], stdin?: string): string {
  return execFileSync(RRDTOOL, args, { encoding: 'utf8', maxBuffer: 1 << 28, input: stdin });
}

/** fetchCf reads one archive's values by time (s). */
function fetchCf(file: string, cf: string, n: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of rrdtool(['fetch', file, cf, '-s', String(T0), '-e', String(T0 + n * STEP)]).split('\n').slice(2)) {
    const m = /^(\d+):\s*(\S+)/.exec(line);
    if (m) out.set(Number(m[1]), /nan/i.test(m[2]) ? NaN : Number(m[2]));
  }
  return out;
}

function same(got: number, want: number, where: string): void {
  if (Number.isNaN(want)) return assert.ok(Number.isNaN(got), `${where}: remon ${got}, rrdtool unknown`);
  assert.ok(!Number.isNaN(got), `${where}: remon unknown, rrdtool ${want}`);
  assert.ok(Math.abs(got - want) <= TOLERANCE * Math.max(1, Math.abs(want)), `${where}: remon ${got}, rrdtool ${want}`);
}

describe('holt_winters against rrdtool (HWPREDICT, DEVPREDICT, FAILURES)', function () {
  this.timeout(60_000);
  before(function () {
    requirePeer(this, 'rrdtool', fs.existsSync(RRDTOOL), 'apt-get install rrdtool');
  });

  for (const sc of scenarios) {
    it(sc.name, () => {
      const P = sc.season;
      const n = sc.samples;
      const file = path.join(tmpDir('remon-hw-'), 'hw.rrd');
      // RRAs (1-based indexes in the dependencies): 1 HWPREDICT → 2 SEASONAL, 3 DEVSEASONAL, 4 DEVPREDICT → 3, 5 FAILURES → 3.
      rrdtool(['create', file, '--start', String(T0), '--step', String(STEP), 'DS:x:GAUGE:20:U:U',
        `RRA:HWPREDICT:${n}:${sc.alpha}:${sc.beta}:${P}:2`, `RRA:SEASONAL:${P}:${sc.gamma}:1`, `RRA:DEVSEASONAL:${P}:${sc.gamma}:1`,
        `RRA:DEVPREDICT:${n}:3`, `RRA:FAILURES:${n}:7:9:3`]);
      const info = rrdtool(['info', file]);
      const curRow = (i: number): number => Number(new RegExp(`rra\\[${i}\\]\\.cur_row = (\\d+)`).exec(info)![1]);
      const smoothing = Number(/<seasonal_smooth_idx>\s*(\d+)/.exec(rrdtool(['dump', file]))![1]);
      const xs = input(P, n);
      const t = (k: number): number => T0 + (k + 1) * STEP;
      rrdtool(['-'], xs.map((v, k) => `update ${file} ${t(k)}:${Number.isNaN(v) ? 'U' : v}\n`).join(''));
      const theirs: Record<HwOutput, Map<number, number>> = {
        prediction: fetchCf(file, 'HWPREDICT', n), deviation: fetchCf(file, 'DEVPREDICT', n), failures: fetchCf(file, 'FAILURES', n),
      };

      const model = new HoltWinters({ season: P, alpha: sc.alpha, beta: sc.beta, gamma: sc.gamma, seasonalRow: curRow(1), deviationRow: curRow(2), smoothingRow: smoothing });
      const exprs = sc.expression
        ? (['prediction', 'deviation', 'failures'] as const).map((o) => ({ o, run: compileSeries(`holt_winters(x, '${o}', ${P})`).instantiate() }))
        : [];
      let compared = 0;
      let failing = 0;
      xs.forEach((v, k) => {
        model.update(v);
        const ours: Record<HwOutput, number> = { prediction: model.prediction, deviation: model.deviation, failures: model.failure };
        for (const o of ['prediction', 'deviation', 'failures'] as const) {
          const want = theirs[o].get(t(k));
          assert.notEqual(want, undefined, `rrdtool has a ${o} row at step ${k}`);
          same(ours[o], want!, `step ${k} ${o}`);
          if (!Number.isNaN(want!)) compared++;
        }
        if (theirs.failures.get(t(k)) === 1) failing++;
        for (const { o, run } of exprs) {
          run.push('x', t(k) * 1000, v);
          const r = run.evaluate(t(k) * 1000);
          same(typeof r.value === 'number' ? r.value : NaN, theirs[o].get(t(k))!, `step ${k} holt_winters(x, '${o}', ${P})`);
        }
      });
      // Every step was compared, most with values on both sides, and the burst was flagged.
      assert.ok(compared > 2 * n, `${compared} values compared`);
      assert.ok(failing >= 5, `${failing} failing steps`);
    });
  }
});
