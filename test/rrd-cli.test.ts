import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rrdCommand } from '../src/cli/rrd';
import { tmpDir } from './helpers';

function run(args: string[]) {
  let out = '';
  let err = '';
  const code = rrdCommand(args, { out: (t) => (out += t), err: (t) => (err += t) }, 1_700_000_000);
  return { code, out, err };
}

describe('remon rrd (command line)', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'a.rrd');

  before(() => {
    assert.equal(run(['create', file, '--start', '1699999000', '--step', '60', 'DS:temp:GAUGE:120:-50:60', 'DS:hits:COUNTER:120:U:U', 'RRA:AVERAGE:0.5:1:60', 'RRA:MAX:0.5:1h:1d']).code, 0);
  });

  const errors: Array<[string, string[], number, RegExp]> = [
    ['a missing file', ['fetch', '/nonexistent/x.rrd', 'AVERAGE'], 1, /^ERROR: opening '\/nonexistent\/x.rrd': No such file or directory\n$/],
    ['an unknown DS type', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUG:1:U:U', 'RRA:AVERAGE:0.5:1:10'], 1, /^ERROR: invalid DS type specified \(GAUG\)\n$/],
    ['no RRA', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U'], 1, /you must define at least one Round Robin Archive/],
    ['an xff of 1', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:1:1:10'], 1, /^ERROR: Invalid xff: must be between 0 and 1\n$/],
    ['an existing file with --no-overwrite', ['create', file, '-O', 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:0.5:1:10'], 1, /^ERROR: creating '.*\/a\.rrd': File exists\n$/],
    ['an RRA of too few parts', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:0.5:1'], 1, /^ERROR: Expected at least 4 arguments for RRA but got 3\n$/],
    ['an RRA of too many parts', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:0.5:1:10:5'], 1, /^ERROR: Unexpected extra argument for consolidation function AVERAGE\n$/],
    ['an unknown CF in an RRA', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U', 'RRA:MEDIAN:0.5:1:10'], 1, /^ERROR: Unrecognized consolidation function MEDIAN\n$/],
    ['two DS of one name', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U', 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:0.5:1:10'], 1, /^ERROR: Duplicate DS name: a\n$/],
    ['a bad DS minimum', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:x:U', 'RRA:AVERAGE:0.5:1:10'], 1, /^ERROR: parsing min val - Cannot convert 'x' to float\n$/],
    ['a zero resolution', ['fetch', file, 'AVERAGE', '-r', '0'], 1, /^ERROR: resolution: value must be positive\n$/],
    ['an unknown command', ['frob'], 2, /^ERROR: unknown rrd command 'frob'/],
    ['an unknown option', ['fetch', file, 'AVERAGE', '--bogus', '1'], 2, /unknown option '--bogus'/],
    ['an unknown CF', ['fetch', file, 'MEDIAN'], 1, /unknown consolidation function 'MEDIAN'/],
    ['a text value', ['update', file, '1700000000:abc:1'], 1, /cannot convert 'abc' to float/],
    ['a fractional counter', ['update', file, '1699999060:1:1.5'], 1, /not a simple unsigned integer: '1.5'/],
    ['too few values', ['update', file, '1700000000:1'], 1, /expected 2 data source readings \(got 1\)/],
    ['a start before 1980', ['fetch', file, 'AVERAGE', '-s', '1000', '-e', '2000'], 1, /the first entry to fetch should be after 1980/],
  ];
  for (const [what, args, code, message] of errors) {
    it(`reports ${what} (exit ${code})`, () => {
      const r = run(args);
      assert.equal(r.code, code);
      assert.match(r.err, message);
    });
  }

  for (const cf of ['HWPREDICT', 'MHWPREDICT', 'SEASONAL', 'DEVSEASONAL', 'DEVPREDICT', 'FAILURES']) {
    it(`refuses a Holt-Winters archive (${cf}), which rrdtool would make, and makes no file`, () => {
      const target = path.join(dir, `hw-${cf}.rrd`);
      const r = run(['create', target, '--step', '300', 'DS:a:COUNTER:600:U:U', 'RRA:AVERAGE:0.5:1:10', `RRA:${cf}:1440:0.1:0.0035:288`]);
      assert.equal(r.code, 1);
      assert.equal(r.err, `ERROR: consolidation function ${cf} (Holt-Winters) is not supported by remon rrd; use AVERAGE, MIN, MAX or LAST\n`);
      assert.equal(fs.existsSync(target), false);
    });
  }

  it('create --help explains definitions and says Holt-Winters archives are not supported', () => {
    const r = run(['create', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: remon rrd create FILE/);
    assert.match(r.out, /an RRA's\nstep must be a multiple of --step/);
    assert.match(r.out, /Holt-Winters archives \(HWPREDICT, MHWPREDICT, SEASONAL, DEVSEASONAL, DEVPREDICT,\nFAILURES\) are not supported/);
    for (const sub of ['update', 'fetch', 'info', 'last']) assert.match(run([sub, '--help']).out, /^Usage: remon rrd COMMAND FILE/);
  });

  it('updates with a template, fetches with relative times, and reports last and info', () => {
    assert.equal(run(['update', file, '-t', 'hits:temp', '1700000000:100:20', '1700000060:700:U', '1700000120:1300:25']).code, 0);
    assert.equal(run(['last', file]).out, '1700000120\n');
    const f = run(['fetch', file, 'AVERAGE', '-s', 'end-3m', '-e', '1700000120']);
    assert.equal(f.code, 0);
    assert.match(f.out, /^\s+temp\s+hits\n\n/);
    assert.match(f.out, /1700000100: 2\.5000000000e\+01 1\.0000000000e\+01\n/);
    const info = run(['info', file]).out;
    assert.match(info, /^ds\[temp\]\.min = -5\.0000000000e\+01$/m);
    assert.match(info, /^ds\[hits\]\.last_ds = "1300"$/m);
    assert.match(info, /^rra\[1\]\.pdp_per_row = 60$/m);
    assert.match(info, /^rra\[1\]\.rows = 24$/m);
  });
});
