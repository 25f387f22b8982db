import { RemonError } from '../errors';
import { RrdFile } from '../store/rrd/file';
import { parseDs, parseRra, parseTime, seconds } from '../store/rrd/spec';
import { rrdStrtod } from '../store/rrd/strtod';
import { Cf, CFS, lastDsText, RrdDef } from '../store/rrd/types';
import type { CliIO } from './commands';

export const RRD_USAGE = `Usage: remon rrd COMMAND FILE ...

An rrdtool-compatible subset on remon's own RRD files; arguments and fetch output as rrdtool's.

  remon rrd create FILE [--start|-b T] [--step|-s S] [--no-overwrite|-O] DS:name:TYPE:hb:min:max... RRA:CF:xff:steps:rows...
  remon rrd update FILE [--template|-t ds:ds...] [--] N|T:v[:v...] ...
  remon rrd fetch FILE CF [--resolution|-r R] [--start|-s T] [--end|-e T]
  remon rrd info FILE
  remon rrd last FILE

TYPE is GAUGE, COUNTER, DERIVE, ABSOLUTE, DCOUNTER or DDERIVE; CF is AVERAGE, MIN, MAX or LAST.
Times are epoch seconds, N/now, or offsets such as now-1h, end-1d, start+6h.
remon rrd create --help says more about definitions.
`;

/** RRD_CREATE_USAGE is what `remon rrd create --help` prints. */
export const RRD_CREATE_USAGE = `Usage: remon rrd create FILE [--start|-b T] [--step|-s S] [--no-overwrite|-O]
                        DS:name:TYPE:heartbeat:min:max ... RRA:CF:xff:steps:rows ...

Creates FILE with every row unknown, as rrdtool create does.

  --step S         seconds per primary data point (default 300), or a duration: 10s, 5m
  --start T        time of the last update: epoch seconds, now, now-1h (default now-10s)
  --no-overwrite   refuse to replace an existing FILE
  DS:...           a data source: name (1-19 of A-Z a-z 0-9 _ -); TYPE GAUGE, COUNTER,
                   DERIVE, ABSOLUTE, DCOUNTER or DDERIVE; heartbeat in seconds or a duration;
                   min and max numbers or U for none
  RRA:...          an archive: CF AVERAGE, MIN, MAX or LAST; xff from 0 to below 1; steps
                   and rows as counts (RRA:AVERAGE:0.5:12:24) or as durations
                   (RRA:AVERAGE:0.5:1m:1d: one row a minute, a day of them)

Durations are a number with s, m, h, d, w, M (31 days) or y (366 days), as in rrdtool. As
rrdtool does, a definition is refused when a duration does not divide evenly: an RRA's
step must be a multiple of --step (--step 10s with 15s is refused), and its span a
multiple of its step (10s:75s is refused; so is a span shorter than one row).

Holt-Winters archives (HWPREDICT, MHWPREDICT, SEASONAL, DEVSEASONAL, DEVPREDICT,
FAILURES) are not supported: remon's files do not have them, and create refuses them.
`;

/** Options reads rrdtool-style options (--long V, --long=V, -x V) out of an argument list. */
class Options {
  readonly rest: string[] = [];
  private readonly values = new Map<string, string | true>();
  constructor(args: string[], spec: Record<string, { short?: string; flag?: boolean }>) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--') {
        this.rest.push(...args.slice(i + 1));
        break;
      }
      const long = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
      const short = /^-([a-zA-Z])(.*)$/.exec(a);
      const name = long ? long[1] : short ? Object.keys(spec).find((k) => spec[k].short === short[1]) : undefined;
      if (!long && !short) {
        this.rest.push(a);
        continue;
      }
      if (!name || !spec[name]) throw usage(`unknown option '${a}'`);
      if (spec[name].flag) {
        this.values.set(name, true);
        continue;
      }
      const inline = long ? long[2] : short![2] || undefined;
      const value = inline ?? args[++i];
      if (value === undefined) throw usage(`option '${a}' needs a value`);
      this.values.set(name, value);
    }
  }
  get(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  has(name: string): boolean {
    return this.values.has(name);
  }
}

class UsageError extends Error {}
const usage = (m: string): UsageError => new UsageError(m);

/** formatValue prints a double as C's printf("%0.10e") does on glibc (NaN as -nan, as rrdtool shows it). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return '-nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const [mant, exp] = v.toExponential(10).split('e');
  const e = Number(exp);
  return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** rrdCommand runs `remon rrd ...`; returns the exit code. */
export function rrdCommand(args: string[], io: CliIO, now = Math.floor(Date.now() / 1000)): number {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(RRD_USAGE);
    return sub ? 0 : 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(sub === 'create' ? RRD_CREATE_USAGE : RRD_USAGE);
    return 0;
  }
  try {
    switch (sub) {
      case 'create':
        return create(rest, now);
      case 'update':
        return update(rest);
      case 'fetch':
        return fetch(rest, io, now);
      case 'info':
        return info(rest, io);
      case 'last':
        return last(rest, io);
      default:
        throw usage(`unknown rrd command '${sub}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`ERROR: ${err.message}\n\n${RRD_USAGE}`);
      return 2;
    }
    if (err instanceof RemonError) {
      io.err(`ERROR: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function fileArg(o: Options): string {
  const file = o.rest.shift();
  if (!file) throw usage('missing FILE');
  return file;
}

function create(args: string[], now: number): number {
  const o = new Options(args, { start: { short: 'b' }, step: { short: 's' }, 'no-overwrite': { short: 'O', flag: true } });
  const file = fileArg(o);
  const step = o.get('step') ? seconds(o.get('step')!, 'step size') : 300;
  const start = o.get('start') ? parseTime(o.get('start')!, { now }) : now - 10;
  const def: RrdDef = { step, ds: [], rra: [] };
  // In argument order, as rrdtool reads them: the first bad one is the one reported.
  for (const a of o.rest) {
    if (a.startsWith('DS:')) def.ds.push(parseDs(a));
    else if (a.startsWith('RRA:')) def.rra.push(parseRra(a, step));
    else throw usage(`can't parse argument '${a}'`);
  }
  RrdFile.create(file, def, start, { overwrite: !o.has('no-overwrite') }).close();
  return 0;
}

function update(args: string[]): number {
  const o = new Options(args, { template: { short: 't' } });
  const file = fileArg(o);
  if (o.rest.length === 0) throw usage('not enough arguments');
  const rrd = RrdFile.open(file);
  try {
    const names = rrd.def.ds.map((d) => d.name);
    const template = o.get('template')?.split(':');
    for (const name of template ?? []) if (!names.includes(name)) throw usage(`unknown DS name '${name}'`);
    for (const arg of o.rest) {
      const parts = arg.split(':');
      let time = parts[0] === 'N' ? Date.now() / 1000 : rrdStrtod(parts[0]);
      if (time < 0) time += Date.now() / 1000; // rrdtool: a negative time is relative to now
      if (Number.isNaN(time)) throw usage(`can't parse time in '${arg}'`);
      const given = parts.slice(1);
      const order = template ?? names;
      if (given.length !== order.length) {
        throw new RemonError('REMON_ERR_RRD_UPDATE', `expected ${order.length} data source readings (got ${given.length}) from ${arg}`);
      }
      const values = names.map((n) => {
        const i = order.indexOf(n);
        return i < 0 ? 'U' : given[i];
      });
      rrd.update(time, values);
    }
  } finally {
    rrd.close();
  }
  return 0;
}

function fetch(args: string[], io: CliIO, now: number): number {
  const o = new Options(args, { resolution: { short: 'r' }, start: { short: 's' }, end: { short: 'e' } });
  const file = fileArg(o);
  const cf = o.rest.shift();
  if (!cf) throw usage('missing CF');
  if (!(CFS as readonly string[]).includes(cf)) throw new RemonError('REMON_ERR_RRD_FETCH', `unknown consolidation function '${cf}'`);
  const endText = o.get('end') ?? 'now';
  const startText = o.get('start') ?? 'end-1d';
  // Each may be relative to the other (start=end-1d, end=start+6h), as in rrdtool.
  let end = /^(start|s)\b/.test(endText) ? NaN : parseTime(endText, { now });
  const start = parseTime(startText, { now, end: Number.isNaN(end) ? now : end });
  if (Number.isNaN(end)) end = parseTime(endText, { now, start });
  if (start < 3600 * 24 * 365 * 10) throw new RemonError('REMON_ERR_RRD_FETCH', 'the first entry to fetch should be after 1980');
  const step = o.get('resolution') ? seconds(o.get('resolution')!, 'resolution', 'REMON_ERR_RRD_FETCH') : 1;
  const rrd = RrdFile.open(file);
  try {
    const r = rrd.fetch(cf as Cf, Math.floor(start), Math.floor(end), step);
    const lines = [`           ${r.names.map((n) => n.padStart(20)).join('')}`, ''];
    const n = r.names.length;
    for (let k = 0, t = r.start + r.step; t <= r.end; k++, t += r.step) {
      let line = `${String(t).padStart(10)}:`;
      for (let d = 0; d < n; d++) line += ` ${formatValue(r.data[k * n + d])}`;
      lines.push(line);
    }
    io.out(`${lines.join('\n')}\n`);
  } finally {
    rrd.close();
  }
  return 0;
}

function info(args: string[], io: CliIO): number {
  const o = new Options(args, {});
  const file = fileArg(o);
  const rrd = RrdFile.open(file);
  try {
    const { def, state: s } = rrd;
    const num = (v: number): string => (Number.isNaN(v) ? 'NaN' : formatValue(v));
    const out = [
      `filename = "${file}"`,
      'rrd_version = "0003"',
      `step = ${def.step}`,
      `last_update = ${s.lastUp}`,
      `header_size = ${rrd.headerSize}`,
      // Not in rrdtool's info: which of remon's file formats this is (1 is still read and updated).
      `remon_format = ${rrd.formatVersion}`,
    ];
    def.ds.forEach((d, i) => {
      const k = `ds[${d.name}]`;
      out.push(
        `${k}.index = ${i}`,
        `${k}.type = "${d.type}"`,
        `${k}.minimal_heartbeat = ${d.heartbeat}`,
        `${k}.min = ${num(d.min)}`,
        `${k}.max = ${num(d.max)}`,
        `${k}.last_ds = "${lastDsText(s, i)}"`,
        `${k}.value = ${num(s.pdpVal[i])}`,
        `${k}.unknown_sec = ${s.pdpUnknSec[i]}`,
      );
    });
    def.rra.forEach((r, i) => {
      out.push(`rra[${i}].cf = "${r.cf}"`, `rra[${i}].rows = ${r.rows}`, `rra[${i}].cur_row = ${s.curRow[i]}`, `rra[${i}].pdp_per_row = ${r.pdpCnt}`, `rra[${i}].xff = ${num(r.xff)}`);
      def.ds.forEach((_, d) => {
        const c = i * def.ds.length + d;
        out.push(`rra[${i}].cdp_prep[${d}].value = ${num(s.cdpVal[c])}`, `rra[${i}].cdp_prep[${d}].unknown_datapoints = ${s.cdpUnknPdp[c]}`);
      });
    });
    io.out(`${out.join('\n')}\n`);
  } finally {
    rrd.close();
  }
  return 0;
}

function last(args: string[], io: CliIO): number {
  const o = new Options(args, {});
  const rrd = RrdFile.open(fileArg(o));
  io.out(`${rrd.state.lastUp}\n`);
  rrd.close();
  return 0;
}
