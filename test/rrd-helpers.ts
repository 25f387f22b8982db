import { strict as assert } from 'node:assert';
import { rrdCommand } from '../src/cli/rrd';

/* The RRD tests' shared pieces: `remon rrd` in-process, and fetch output compared value by value. */

/** remonRrd runs `remon rrd ARGS` in this process and returns what it prints; a failure throws with its error output. */
export function remonRrd(args: string[]): string {
  let out = '';
  let err = '';
  const code = rrdCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
  if (code !== 0) throw new Error(`remon rrd ${args.join(' ')} → ${code}: ${err}`);
  return out;
}

interface Row {
  t: number;
  values: number[];
}

function parseFetch(text: string): { names: string[]; rows: Row[] } {
  const lines = text.split('\n');
  const names = lines[0].trim().split(/\s+/);
  const rows = lines.slice(2).filter((l) => l.trim() !== '').map((l) => {
    const [t, rest] = l.split(':');
    return { t: Number(t), values: rest.trim().split(/\s+/).map((v) => (/nan/i.test(v) ? NaN : Number(v))) };
  });
  return { names, rows };
}

/** assertSameFetch: the same DS names and timestamps, every value equal to 1e-9 relative (NaN where rrdtool prints nan); returns how many known values it compared. */
export function assertSameFetch(ours: string, theirs: string, what: string): number {
  const a = parseFetch(ours);
  const b = parseFetch(theirs);
  assert.deepEqual(a.names, b.names, `${what}: DS names`);
  assert.deepEqual(a.rows.map((r) => r.t), b.rows.map((r) => r.t), `${what}: timestamps`);
  let compared = 0;
  a.rows.forEach((r, i) => {
    r.values.forEach((v, j) => {
      const w = b.rows[i].values[j];
      const where = `${what}: t=${r.t} ds=${a.names[j]}: remon ${v}, rrdtool ${w}`;
      if (Number.isNaN(w)) assert.ok(Number.isNaN(v), where);
      else {
        assert.ok(!Number.isNaN(v), where);
        if (w !== v) assert.ok(Math.abs(v - w) <= 1e-9 * Math.max(Math.abs(v), Math.abs(w)), where);
        compared++;
      }
    });
  });
  return compared;
}
