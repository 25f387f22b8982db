import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunOutput } from '../../src/engine/block';
import { Result } from '../../src/engine/result';
import { silentLogger } from '../../src/log';
import { createMemoryShared } from '../../src/shared/memory';
import { shellBlock, ShellOptions } from './index';
import { parseOutput, ParseOutcome, ParseSpec } from './parse';

let dir: string;

type Opts = Omit<ShellOptions, 'name'>;

function run(options: Opts, ctx: { input?: Result; signal?: AbortSignal } = {}): Promise<RunOutput> {
  const log = silentLogger();
  const block = shellBlock.create({ name: 't1', ...options }, { name: 't1', configDir: dir, dataDir: dir, log, emit: () => undefined });
  return block.run({ signal: ctx.signal ?? new AbortController().signal, input: ctx.input, log, shared: createMemoryShared() });
}

/** processesWith lists the cmdlines (NULs as spaces) of live processes containing marker. */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // exited while we looked
    }
    if (cmdline.includes(marker)) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

/** waitFor polls until check() is true or ms passed, and returns check()'s last answer. */
async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** markers returns two sleep durations unique to this test run, e.g. 300.4711231. */
function markers(): [string, string] {
  const n = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
  return [`300.${n}1`, `300.${n}2`];
}

describe('shell block', () => {
  before(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'remon-shell-')));
    fs.mkdirSync(path.join(dir, 'sub'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('parseOutput', () => {
    const cases: Array<[string, ParseSpec, string, ParseOutcome]> = [
      ['none ignores stdout', 'none', '42', { fields: {} }],
      ['number', 'number', '42\n', { fields: { value: 42 } }],
      ['number with sign, exponent and spaces', 'number', '  -1.5e3 \n', { fields: { value: -1500 } }],
      ['number rejects text', 'number', 'abc\n', { error: 'stdout is not a number: "abc"' }],
      ['number rejects empty stdout', 'number', '\n', { error: 'stdout is not a number: (empty)' }],
      ['number rejects two numbers', 'number', '1 2', { error: 'stdout is not a number: "1 2"' }],
      ['number rejects overflow to Infinity', 'number', '1e999', { error: 'stdout is not a number: "1e999"' }],
      ['json flattens nested numeric leaves with _', 'json', '{"a":{"b":1,"c":{"d":-2}},"e":3.5}', { fields: { a_b: 1, a_c_d: -2, e: 3.5 } }],
      ['json takes numeric strings and booleans, ignores the rest', 'json',
        '{"s":"2.5","t":true,"f":false,"name":"x","n":null,"empty":"","list":[7,"8","y"]}',
        { fields: { s: 2.5, t: 1, f: 0, list_0: 7, list_1: 8 } }],
      ['json makes keys series-safe', 'json', '{"disk /":{"used%":5}}', { fields: { disk___used_: 5 } }],
      ['json top-level number is value', 'json', '7\n', { fields: { value: 7 } }],
      ['json rejects non-JSON', 'json', 'not json', { error: 'stdout is not JSON: "not json"' }],
      ['json rejects empty stdout', 'json', '', { error: 'stdout is not JSON: (empty)' }],
      ['kv takes key=value and key: value lines', 'kv', 'a=1\nb: 2.5\n  c = -3  \nd.e=4\nname=x\n# note\nf=1 2\n',
        { fields: { a: 1, b: 2.5, c: -3, d_e: 4 } }],
      ['kv with no pairs is no fields', 'kv', 'hello\n', { fields: {} }],
      ['regex named groups', { regex: '^(?<load1>\\S+) (?<load5>\\S+)' }, '0.50 1.25 2.00 1/99 123\n', { fields: { load1: 0.5, load5: 1.25 } }],
      ['regex is multi-line and ignores non-numeric groups', { regex: '^used (?<used>\\d+) (?<unit>\\w+)$' }, 'x\nused 42 MB\n',
        { fields: { used: 42 } }],
      ['regex without a match', { regex: '^(?<n>\\d+)$' }, 'abc\n', { error: 'stdout does not match /^(?<n>\\d+)$/: "abc"' }],
      ['long stdout is previewed with ...', 'number', 'x'.repeat(100), { error: `stdout is not a number: "${'x'.repeat(77)}..."` }],
    ];
    for (const [name, spec, stdout, want] of cases) {
      it(name, () => assert.deepEqual(parseOutput(spec, stdout), want));
    }
  });

  describe('check', () => {
    const cases: Array<[string, ShellOptions['parse'], RegExp | null]> = [
      ['accepts a regex with named groups', { regex: '^(?<load1>\\S+)' }, null],
      ['accepts the string modes', 'json', null],
      ['rejects an invalid regex', { regex: '(?<a>\\d+' }, /^is not a valid regular expression: Invalid regular expression: .*\(\?<a>\\d\+/],
      ['rejects a regex without named groups', { regex: '^(\\d+) (\\d+)' }, /^has no named group; name each value, e.g. \(\?<load1>\\S\+\)$/],
      ['does not take a lookbehind for a named group', { regex: '(?<=x)\\d+' }, /^has no named group/],
    ];
    for (const [name, parse, want] of cases) {
      it(name, () => {
        const problems = shellBlock.check!({ name: 'c', command: 'true', parse });
        if (want === null) return assert.deepEqual(problems, []);
        assert.equal(problems.length, 1);
        assert.equal(problems[0][0], 'parse.regex');
        assert.match(problems[0][1], want);
      });
    }
  });

  describe('fields (the series remon check knows before a run)', () => {
    const cases: Array<[string, ShellOptions['parse'], string[] | undefined]> = [
      ['no parse: the exit code', undefined, ['exit_code']],
      ['number: and value', 'number', ['exit_code', 'value']],
      ['regex: and its named groups, escapes and nesting understood', { regex: '^\\(?<x>a\\)(?<load1>\\S+) ((?<load5>\\S+)|-)' }, ['exit_code', 'load1', 'load5']],
      ['json: not known before it runs', 'json', undefined],
      ['kv: not known before it runs', 'kv', undefined],
    ];
    for (const [name, parse, want] of cases) {
      it(name, () => assert.deepEqual(shellBlock.fields!({ name: 'f', command: 'true', parse }), want));
    }
  });

  describe('run', () => {
    it('runs a string command with /bin/sh -c', async () => {
      const r = await run({ command: 'echo "$0" | tr a-z A-Z; echo two' });
      assert.deepEqual(r, { ok: true, fields: { exit_code: 0 }, output: '/BIN/SH\ntwo\n' });
    });

    it('runs an argv list without a shell', async () => {
      const r = await run({ command: ['/bin/echo', 'a  b', '$HOME', '*'] });
      assert.deepEqual(r, { ok: true, fields: { exit_code: 0 }, output: 'a  b $HOME *\n' });
    });

    it('adds env and REMON_BLOCK to the environment', async () => {
      const r = await run({ command: 'echo "$FOO|$REMON_BLOCK|${PATH:+path}"', env: { FOO: 'bar baz' } });
      assert.equal(r.output, 'bar baz|t1|path\n');
    });

    it('runs in configDir, or in cwd relative to it', async () => {
      assert.equal((await run({ command: 'pwd -P' })).output, `${dir}\n`);
      assert.equal((await run({ command: 'pwd -P', cwd: 'sub' })).output, `${path.join(dir, 'sub')}\n`);
      assert.equal((await run({ command: ['/bin/pwd', '-P'], cwd: '/' })).output, '/\n');
    });

    const codes: Array<[string, Opts, Partial<RunOutput>]> = [
      ['exit 0 is ok', { command: 'exit 0' }, { ok: true, fields: { exit_code: 0 }, message: undefined }],
      ['exit 3 fails with the first stderr line', { command: 'echo out; echo boom >&2; echo more >&2; exit 3' },
        { ok: false, fields: { exit_code: 3 }, message: 'exit code 3, expected 0: boom' }],
      ['without stderr the first stdout line is used', { command: 'echo first; echo second; exit 4' },
        { ok: false, fields: { exit_code: 4 }, message: 'exit code 4, expected 0: first' }],
      ['without any output the message is just the code', { command: 'exit 5' },
        { ok: false, fields: { exit_code: 5 }, message: 'exit code 5, expected 0' }],
      ['ok_codes makes another code ok', { command: 'exit 1', ok_codes: [0, 1] }, { ok: true, fields: { exit_code: 1 }, message: undefined }],
      ['ok_codes are listed when missed', { command: 'exit 2', ok_codes: [0, 1] },
        { ok: false, fields: { exit_code: 2 }, message: 'exit code 2, expected 0 or 1' }],
      ['a bad exit code wins over a parse error', { command: 'echo nope >&2; exit 3', parse: 'number' },
        { ok: false, fields: { exit_code: 3 }, message: 'exit code 3, expected 0: nope' }],
      ['a bad exit code keeps the parsed fields', { command: 'echo 7; exit 3', parse: 'number' },
        { ok: false, fields: { exit_code: 3, value: 7 }, message: 'exit code 3, expected 0: 7' }],
      ['a command killed by a signal has no exit_code', { command: 'kill -9 $$' }, { ok: false, fields: {}, message: 'killed by SIGKILL' }],
      ['a missing program', { command: ['/nonexistent/remon-cmd'] },
        { ok: false, fields: undefined, message: 'cannot run /nonexistent/remon-cmd: spawn /nonexistent/remon-cmd ENOENT' }],
      ['a missing cwd', { command: 'true', cwd: 'missing' }, { ok: false, fields: undefined, message: 'cannot run /bin/sh: cwd <dir>/missing does not exist' }],
    ];
    for (const [name, options, want] of codes) {
      it(`exit: ${name}`, async () => {
        const r = await run(options);
        assert.deepEqual({ ok: r.ok, fields: r.fields, message: r.message }, { ...want, message: want.message?.replace('<dir>', dir) });
      });
    }

    const parses: Array<[string, Opts, Partial<RunOutput>]> = [
      ['number', { command: 'echo 42', parse: 'number' }, { ok: true, fields: { exit_code: 0, value: 42 } }],
      ['json', { command: `echo '{"db":{"conns":12,"up":true},"ver":"1.2.3"}'`, parse: 'json' },
        { ok: true, fields: { exit_code: 0, db_conns: 12, db_up: 1 } }],
      ['kv', { command: 'printf "queued=5\\nfailed: 0\\nhost=db1\\n"', parse: 'kv' }, { ok: true, fields: { exit_code: 0, queued: 5, failed: 0 } }],
      ['regex', { command: 'echo "0.50 1.25 2.00 1/99 123"', parse: { regex: '^(?<load1>\\S+) (?<load5>\\S+)' } },
        { ok: true, fields: { exit_code: 0, load1: 0.5, load5: 1.25 } }],
      ['number failure', { command: 'echo abc', parse: 'number' }, { ok: false, fields: { exit_code: 0 }, message: 'stdout is not a number: "abc"' }],
      ['json failure', { command: 'echo "{oops"', parse: 'json' }, { ok: false, fields: { exit_code: 0 }, message: 'stdout is not JSON: "{oops"' }],
      ['regex failure', { command: 'true', parse: { regex: '(?<n>\\d+)' } },
        { ok: false, fields: { exit_code: 0 }, message: 'stdout does not match /(?<n>\\d+)/: (empty)' }],
    ];
    for (const [name, options, want] of parses) {
      it(`parse: ${name}`, async () => {
        const r = await run(options);
        assert.deepEqual({ ok: r.ok, fields: r.fields, message: r.message }, { message: undefined, ...want });
        // The fields the type declares for remon check cover what a run gives (json, kv: not known before).
        const declared = shellBlock.fields!(options as ShellOptions);
        if (declared) for (const f of Object.keys(r.fields ?? {})) assert.ok(declared.includes(f), f);
      });
    }

    it('puts stdout, then stderr, in output', async () => {
      const r = await run({ command: 'echo out; echo err >&2' });
      assert.equal(r.output, 'out\n\n--- stderr ---\nerr\n');
    });

    it('keeps exactly max_output bytes of stdout and notes the rest', async () => {
      const r = await run({ command: `head -c 100000 /dev/zero | tr '\\0' a`, max_output: 100 });
      assert.equal(r.ok, true);
      assert.equal(r.output, `${'a'.repeat(100)}\n[… 99900 more bytes]`);
    });

    it('keeps exactly max_output bytes of stderr and notes the rest', async () => {
      const r = await run({ command: `echo hi; head -c 300 /dev/zero | tr '\\0' e >&2`, max_output: 10 });
      assert.equal(r.output, `hi\n\n--- stderr ---\n${'e'.repeat(10)}\n[… 290 more bytes of stderr]`);
    });

    it('parses only the kept stdout', async () => {
      const r = await run({ command: 'echo 12345', parse: 'number', max_output: 3 });
      assert.deepEqual(r.fields, { exit_code: 0, value: 123 });
    });

    it('kills a hung command and its children on abort, leaving no process', async () => {
      const [m1, m2] = markers();
      const ac = new AbortController();
      const started = Date.now();
      const pending = run({ command: `sleep ${m1} & sleep ${m2}; wait` }, { signal: ac.signal });
      // The sh -c line holds both markers too; wait for the two sleeps themselves.
      const sleeping = (m: string): boolean => processesWith(m).some((p) => p.endsWith(`: sleep ${m} `));
      if (!(await waitFor(() => sleeping(m1) && sleeping(m2), 1000))) {
        ac.abort(); // leave nothing behind when failing here
        assert.fail(`the sleeps did not start: ${(await pending).message}`);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 300 - (Date.now() - started))));
      ac.abort();
      const aborted = Date.now();
      const r = await pending;
      assert.ok(Date.now() - aborted < 500, `resolved ${Date.now() - aborted} ms after abort`);
      assert.equal(r.ok, false);
      assert.equal(r.message, 'killed');
      const gone = await waitFor(() => processesWith(m1).length + processesWith(m2).length === 0, 1000);
      assert.ok(gone, `left running: ${[...processesWith(m1), ...processesWith(m2)].join('; ')}`);
    });

    it('says why it was killed when the abort has a reason', async () => {
      const ac = new AbortController();
      const pending = run({ command: 'sleep 5' }, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('timed out after 2s')), 50);
      assert.equal((await pending).message, 'killed: timed out after 2s');
    });

    it('does not start when already aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      assert.deepEqual(await run({ command: 'echo hi' }, { signal: ac.signal }), { ok: false, message: 'aborted before start' });
    });

    it('ends when the command exits, killing what it left in the background', async () => {
      const [m1] = markers();
      const started = Date.now();
      const r = await run({ command: `sleep ${m1} & echo started` });
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.deepEqual(r, { ok: true, fields: { exit_code: 0 }, output: 'started\n' });
      assert.ok(await waitFor(() => processesWith(m1).length === 0, 1000), `left running: ${processesWith(m1).join('; ')}`);
    });

    it('gives a run: step input to the command as JSON on stdin', async () => {
      const input: Result = {
        block: 'upstream', type: 'http', ok: true, fields: { total_ms: 12.5, status: 200 }, message: '',
        startedAt: 1700000000000, durationMs: 13, lagMs: 0, trigger: 'schedule',
      };
      const r = await run({ command: 'cat', parse: 'json' }, { input });
      assert.equal(r.ok, true);
      assert.deepEqual(JSON.parse(r.output!), input);
      assert.deepEqual(r.fields, {
        exit_code: 0, ok: 1, fields_total_ms: 12.5, fields_status: 200, startedAt: 1700000000000, durationMs: 13, lagMs: 0,
      });
    });

    it('gives no stdin without input', async () => {
      const r = await run({ command: 'cat; echo done' });
      assert.deepEqual(r, { ok: true, fields: { exit_code: 0 }, output: 'done\n' });
    });

    it('does not fail when the command ignores its input', async () => {
      const input = { block: 'x', fields: { big: 1 }, message: 'y'.repeat(200000) } as unknown as Result;
      const r = await run({ command: 'echo ignored' }, { input });
      assert.deepEqual(r, { ok: true, fields: { exit_code: 0 }, output: 'ignored\n' });
    });
  });
});
