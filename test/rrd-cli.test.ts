import { strict as assert } from 'node:assert';
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
    ['a missing file', ['fetch', '/nonexistent/x.rrd', 'AVERAGE'], 1, /^ERROR: cannot open \/nonexistent\/x.rrd: ENOENT/],
    ['an unknown DS type', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUG:1:U:U', 'RRA:AVERAGE:0.5:1:10'], 1, /^ERROR: unknown data source type 'GAUG'/],
    ['no RRA', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U'], 1, /you must define at least one Round Robin Archive/],
    ['an xff of 1', ['create', path.join(dir, 'b.rrd'), 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:1:1:10'], 1, /invalid xff '1'/],
    ['an existing file with --no-overwrite', ['create', file, '-O', 'DS:a:GAUGE:1:U:U', 'RRA:AVERAGE:0.5:1:10'], 1, /file exists/],
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
