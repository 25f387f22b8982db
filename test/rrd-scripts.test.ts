import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePeer } from './peers';
import { tmpDir } from './helpers';
import { outputsOf, remonTool, renderTranscript, RRDTOOL, rrdtoolTool, Tool } from './rrd-transcript';

/**
 * rrdtool's own test scripts (tests/rrdcreate, create-no-overwrite, pdp-calc1, dcounter1 in
 * oetiker/rrdtool-1.x), kept as transcripts of their commands with what Debian's rrdtool
 * 1.7.2 answers (test/fixtures/rrdtool): `remon rrd` must answer the same, line for line,
 * refusals included. The same transcripts run against rrdtool itself when it is installed,
 * which keeps the expected lines honest.
 */
const DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'rrdtool');
const transcripts = fs.readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

function check(tool: Tool, name: string): void {
  const text = fs.readFileSync(path.join(DIR, name), 'utf8').replace(/\n$/, '');
  assert.equal(renderTranscript(text, tool, tmpDir('remon-rrd-script-')), text);
}

describe('rrdtool test scripts', function () {
  this.timeout(60_000);

  it('are all here', () => {
    assert.deepEqual(transcripts, ['create-no-overwrite.txt', 'dcounter1.txt', 'pdp-calc1.txt', 'rrdcreate.txt']);
  });

  describe('against remon rrd', () => {
    for (const name of transcripts) it(name, () => check(remonTool, name));

    it('rrdcreate: each definition with counts gives the same file as with durations', () => {
      const infos = outputsOf(fs.readFileSync(path.join(DIR, 'rrdcreate.txt'), 'utf8'), /^info junk\.rrd/);
      assert.equal(infos.length, 6);
      for (let i = 0; i < infos.length; i += 2) {
        assert.ok(infos[i].length > 500, 'the expected info is there');
        assert.equal(infos[i + 1], infos[i], `pair ${i / 2 + 1}`);
      }
    });
  });

  describe(`against ${RRDTOOL} (the expected lines are its own)`, () => {
    before(function () {
      requirePeer(this, 'rrdtool', fs.existsSync(RRDTOOL), 'apt-get install rrdtool');
    });
    for (const name of transcripts) it(name, () => check(rrdtoolTool, name));
  });
});
