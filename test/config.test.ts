import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSchema } from '../src/config/compose';
import { ConfigError, formatProblem, loadConfig } from '../src/config/load';
import { Config } from '../src/config/types';
import { evaluate, identifiers, parse, SCALAR_FUNCTION_NAMES, Value } from '../src/expr';
import { registry } from '../src/registry';
import { formatDuration, parseDuration, suggestDuration } from '../src/util/duration';

const ROOT = path.resolve(__dirname, '..', '..');
const INVALID = path.join(ROOT, 'test', 'fixtures', 'invalid');

/** loadError loads a config that must be invalid and returns its ConfigError. */
function loadError(file: string, options: Parameters<typeof loadConfig>[1]): ConfigError {
  try {
    loadConfig(file, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${path.basename(file)} loaded without errors`);
}

/** load loads config text as if it were the file /srv/remon/monitor.yaml. */
function load(text: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig('/srv/remon/monitor.yaml', { ...registry, text, env }).config;
}

describe('config: invalid fixtures', () => {
  // Each fixture states what the loader must report: `# expect: FILE:LINE:COL: path: message`
  // lines (FILE is the fixture's base name) and `# env: NAME=value` lines, the only
  // environment the load sees.
  const fixtures = fs.readdirSync(INVALID).filter((f) => f.endsWith('.yaml')).sort();

  it('has a fixture per idea (at least 35)', () => {
    assert.ok(fixtures.length >= 35, `only ${fixtures.length} fixtures`);
  });

  for (const name of fixtures) {
    it(name, () => {
      const file = path.join(INVALID, name);
      const text = fs.readFileSync(file, 'utf8');
      const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
      const env = Object.fromEntries([...text.matchAll(/^# env: (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
      assert.ok(expected.length > 0, `${name} has no "# expect:" line`);

      const err = loadError(file, { ...registry, env });
      assert.equal(err.code, 'REMON_ERR_CONFIG_INVALID');
      assert.deepEqual(err.problems.map((p) => formatProblem(name, p)), expected);
      assert.equal(err.message, err.problems.map((p) => formatProblem(file, p)).join('\n'));
    });
  }

  it('reports an unreadable file as REMON_ERR_CONFIG_READ', () => {
    assert.throws(() => loadConfig(path.join(INVALID, 'no-such-file.yaml'), registry), { code: 'REMON_ERR_CONFIG_READ' });
  });
});

describe('config: valid files', () => {
  const minimal = 'blocks:\n  - name: load\n    type: shell\n    command: cat /proc/loadavg\n';

  it('fills defaults', () => {
    const c = load(minimal);
    assert.equal(c.file, '/srv/remon/monitor.yaml');
    assert.equal(c.dir, '/srv/remon');
    assert.deepEqual(c.node, {
      name: os.hostname(),
      listen: { host: '127.0.0.1', port: 2001 },
      data: '/srv/remon/data',
      token: undefined,
      blockDirs: [],
      maxConcurrency: 500,
      logLevel: 'info',
      autoCreate: false,
    });
    assert.deepEqual(c.storage, { kind: 'rrd', retention: ['10s:1d', '1m:30d', '1h:1y'] });
    assert.deepEqual(c.shared, { kind: 'memory', persistentBuckets: [] });
    const b = c.blocks[0];
    assert.deepEqual(
      { name: b.name, type: b.type, description: b.description, mode: b.mode, everyMs: b.everyMs, timeoutMs: b.timeoutMs, disabled: b.disabled, pipe: b.pipe },
      { name: 'load', type: 'shell', description: '', mode: 'interval', everyMs: 60_000, timeoutMs: 10_000, disabled: false, pipe: [] },
    );
    assert.equal(b.options.command, 'cat /proc/loadavg');
  });

  it('defaults timeout to the smaller of 10s and every, and reads durations', () => {
    const c = load(`blocks:
  - { name: fast, type: shell, command: x, every: 500ms }
  - { name: slow, type: shell, command: x, every: 1h30m }
  - { name: set, type: shell, command: x, every: 5s, timeout: 2s }
  - { name: frac, type: shell, command: x, every: 1.5s }
`);
    assert.deepEqual(c.blocks.map((b) => [b.name, b.everyMs, b.timeoutMs]), [
      ['fast', 500, 500],
      ['slow', 5_400_000, 10_000],
      ['set', 5000, 2000],
      ['frac', 1500, 1500],
    ]);
  });

  it('resolves node.data against the config directory', () => {
    assert.equal(load('node: { data: ../var/remon }\n').node.data, '/srv/var/remon');
    assert.equal(load('node: { data: /var/lib/remon }\n').node.data, '/var/lib/remon');
  });

  it('reads node and storage settings', () => {
    const c = load('node: { name: alpha, listen: "[::1]:9000", max_concurrency: 8 }\nstorage: { kind: memory, retention: [1s:1h] }\n');
    assert.equal(c.node.name, 'alpha');
    assert.deepEqual(c.node.listen, { host: '::1', port: 9000 });
    assert.equal(c.node.maxConcurrency, 8);
    assert.deepEqual(c.storage, { kind: 'memory', retention: ['1s:1h'] });
  });

  it('expands ${VAR}, ${VAR:-default} and $${', () => {
    const c = load(
      `node:
  name: \${NODE:-alpha}
  token: \${TOKEN}
  listen: \${HOST}:\${PORT}
  data: \${DATA:-./state}
blocks:
  - name: load
    type: shell
    command: echo "$\${HOME} is not expanded" \${GREETING}
    description: \${EMPTY:-fallback for an empty value}
`,
      { TOKEN: 's3cret', HOST: '0.0.0.0', PORT: '8080', GREETING: 'hi', EMPTY: '' },
    );
    assert.equal(c.node.name, 'alpha');
    assert.equal(c.node.token, 's3cret');
    assert.deepEqual(c.node.listen, { host: '0.0.0.0', port: 8080 });
    assert.equal(c.node.data, '/srv/remon/state');
    assert.equal(c.blocks[0].options.command, 'echo "${HOME} is not expanded" hi');
    assert.equal(c.blocks[0].description, 'fallback for an empty value');
  });

  it('gives an unquoted ${VAR} the type of its value, and keeps a quoted one text', () => {
    const c = load('node:\n  max_concurrency: ${MAXC}\nblocks:\n  - name: a\n    type: shell\n    command: x\n    disabled: ${OFF}\n    description: "${MAXC}"\n', {
      MAXC: '64',
      OFF: 'true',
    });
    assert.equal(c.node.maxConcurrency, 64);
    assert.equal(c.blocks[0].disabled, true);
    assert.equal(c.blocks[0].description, '64');
  });

  it('compiles pipe steps', () => {
    const c = load(`blocks:
  - name: web
    type: shell
    command: curl -fsS http://127.0.0.1/
    pipe:
      - increment: web_runs
      - increment: { counter: web_weight, by: 2 }
      - if: up == 0 and exit_code != 7
        then:
          - queue: incidents
          - run: report
        else:
          - set: web_last_ok
      - set: { bucket: web, key: doubled, value: exit_code * 2 }
      - queue: { queue: recent, max_length: 10 }
  - name: report
    type: shell
    mode: on-demand
    command: cat
`);
    assert.deepEqual(c.blocks[0].pipe, [
      { kind: 'increment', counter: 'web_runs', by: 1 },
      { kind: 'increment', counter: 'web_weight', by: 2 },
      {
        kind: 'if',
        source: 'up == 0 and exit_code != 7',
        cond: parse('up == 0 and exit_code != 7'),
        then: [{ kind: 'queue', queue: 'incidents' }, { kind: 'run', block: 'report' }],
        else: [{ kind: 'set', bucket: 'default', key: 'web_last_ok' }],
      },
      { kind: 'set', bucket: 'web', key: 'doubled', value: parse('exit_code * 2'), source: 'exit_code * 2' },
      { kind: 'queue', queue: 'recent', maxLength: 10 },
    ]);
    assert.equal(c.blocks[1].mode, 'on-demand');
  });

  it('returns a deeply frozen config', () => {
    const c = load('blocks:\n  - { name: a, type: shell, command: [echo, hi], pipe: [{ if: up == 0, then: [{ increment: n }] }] }\n');
    for (const o of [c, c.node, c.node.listen, c.storage.retention, c.blocks, c.blocks[0], c.blocks[0].options, c.blocks[0].options.command, c.blocks[0].pipe[0]]) {
      assert.ok(Object.isFrozen(o));
    }
    assert.throws(() => { (c.node as { name: string }).name = 'changed'; }, TypeError);
    assert.throws(() => { (c.blocks as unknown[]).push({}); }, TypeError);
  });
});

describe('config: published schema', () => {
  it('schema/monitor.schema.json is buildSchema(registry)', () => {
    // After changing a schema (a section's or a block type's), regenerate it: npm run schema
    const published = fs.readFileSync(path.join(ROOT, 'schema', 'monitor.schema.json'), 'utf8');
    assert.equal(published, JSON.stringify(buildSchema(registry), null, 2) + '\n');
  });
});

describe('util/duration', () => {
  const parses: Array<[string, number]> = [
    ['500ms', 500], ['5s', 5000], ['1m', 60_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1w', 604_800_000],
    ['1h30m', 5_400_000], ['1m30s', 90_000], ['1.5s', 1500], ['0s', 0], ['2s500ms', 2500],
  ];
  for (const [text, ms] of parses) it(`parseDuration("${text}") = ${ms}`, () => assert.equal(parseDuration(text), ms));

  for (const text of ['', '5', 's', '5 s', '1h 30m', '-1s', '5sec', '1y', '1.s', ' 5s']) {
    it(`parseDuration("${text}") is undefined`, () => assert.equal(parseDuration(text), undefined));
  }

  const formats: Array<[number, string]> = [
    [0, '0s'], [500, '500ms'], [1000, '1s'], [1500, '1s500ms'], [90_000, '1m30s'], [5_400_000, '1h30m'],
    [604_800_000, '1w'], [93_784_005, '1d2h3m4s5ms'],
  ];
  for (const [ms, text] of formats) it(`formatDuration(${ms}) = "${text}"`, () => assert.equal(formatDuration(ms), text));

  it('formatDuration and parseDuration round-trip', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 694_861_001]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });

  it('suggestDuration rewrites spelled-out durations', () => {
    assert.equal(suggestDuration('5 seconds'), '5s');
    assert.equal(suggestDuration('2 Hours'), '2h');
    assert.equal(suggestDuration('10min'), '10m');
    assert.equal(suggestDuration('250 milliseconds'), '250ms');
    assert.equal(suggestDuration('soon'), undefined);
    assert.equal(suggestDuration('5 fortnights'), undefined);
  });
});

describe('expr', () => {
  const fields: Record<string, Value> = { up: 1, down: 0, load1: 2.5, name: 'web-1', ok: true, 'nightly-backup.up': 1, 'homepage.total_ms': 180 };
  const run = (src: string): Value => evaluate(parse(src), (n) => fields[n]);

  const cases: Array<[string, Value]> = [
    // precedence and associativity
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['2 * 3 % 4', 2],
    ['-2 * 3', -6],
    ['- -2', 2],
    ['1 + 2 == 3', true],
    ['true || false && false', true],
    ['(true || false) && false', false],
    // words
    ['up == 1 and load1 > 2', true],
    ['down == 1 or load1 > 2', true],
    ['not up == 0', true], // not binds looser than ==
    ['not down', true],
    ['not down == 0 or up == 0', false], // not binds tighter than or
    ['!up == 0', true], // ! binds tighter: (!up) == 0
    // null: a missing field
    ['missing', null],
    ['missing == null', true],
    ['missing != null', false],
    ['up != null', true],
    ['missing > 1', false],
    ['missing < 1', false],
    ['missing == 0', false],
    ['missing != 0', true],
    ['missing + 1', null],
    ['missing + 1 == null', true],
    ['not (missing > 1)', true],
    ['1 / 0', null],
    // strings
    ['name == "web-1"', true],
    ["name != 'web-2'", true],
    ['"abc" < "abd"', true],
    ['"10" < 9', false],
    ['name + "!"', 'web-1!'],
    ['name =~ "^web-\\\\d$"', true],
    ['name =~ "^db"', false],
    ['missing =~ ".*"', false],
    // booleans compare as numbers
    ['ok == 1', true],
    ['ok + 1', 2],
    // functions
    ['abs(-3)', 3],
    ['round(3.14159, 2)', 3.14],
    ['round(load1)', 3],
    ['floor(load1) + ceil(load1)', 5],
    ['min(3, missing, 1)', 1],
    ['max(3, missing, 1)', 3],
    ['exists(missing)', false],
    ['exists(up)', true],
    ['abs(name)', null],
    // names
    ['`nightly-backup.up` == 1', true],
    ['homepage.total_ms < 200', true],
    ['1.5e3', 1500],
    ['.5 + .5', 1],
  ];
  for (const [src, want] of cases) {
    it(`${src} → ${JSON.stringify(want)}`, () => assert.equal(run(src), want));
  }

  it('parses `not` looser than comparisons and `!` tighter', () => {
    assert.deepEqual(stripPos(parse('not a == b')), stripPos(parse('!(a == b)')));
    assert.deepEqual(stripPos(parse('!a == b')), stripPos(parse('(!a) == b')));
    assert.deepEqual(stripPos(parse('not a and b')), stripPos(parse('(!a) && b')));
  });

  it('lists identifiers', () => {
    assert.deepEqual(identifiers(parse('max(a, `b-c`) > d.e and not f')), ['a', 'b-c', 'd.e', 'f']);
  });

  // [source, 0-based position, reason]
  const errors: Array<[string, number, string]> = [
    ['up == 0 &&', 10, 'expected a value after "&&", found the end of the expression'],
    ['up = 0', 3, 'unexpected character "="; use == to compare'],
    ['a & b', 2, 'unexpected character "&"; use && or the word "and"'],
    ['a | b', 2, 'unexpected character "|"; use || or the word "or"'],
    ['a # b', 2, 'unexpected character "#"'],
    ['1 < x < 4', 6, 'comparisons cannot be chained; write "a < b && b < c" instead of "a < b < c"'],
    ['x >> 4', 3, 'expected a value after ">", found ">"'],
    ['(x + 1', 6, 'expected ")" to close the "(", found the end of the expression'],
    ['()', 1, 'expected a value after "(", found ")"'],
    ['x y', 2, 'expected an operator or the end of the expression, found "y"'],
    ['a and or b', 6, 'expected a value after "and", found "or"'],
    ['and', 0, 'expected a value, found "and"'],
    ['', 0, 'expected a value, found the end of the expression'],
    ["name == 'web", 8, "unterminated string; add the closing '"],
    ['`web-1.up', 0, 'unterminated `name`; add the closing `'],
    ['`` > 1', 0, 'empty `name`; write a series or field name between the backquotes'],
    ['avg(x) > 1', 0, 'unknown function "avg"; known functions: abs, ceil, exists, floor, max, min, round'],
    ['max(1 2)', 6, 'expected "," or ")" in the arguments of max(), found "2"'],
    ['max(1,)', 6, 'expected a value, found ")"'],
  ];
  for (const [src, pos, reason] of errors) {
    it(`rejects ${JSON.stringify(src)} at column ${pos + 1}`, () => {
      assert.throws(() => parse(src, { functions: SCALAR_FUNCTION_NAMES }), (err: Error & { code?: string; pos?: number; reason?: string }) => {
        assert.equal(err.code, 'REMON_ERR_EXPR_SYNTAX');
        assert.equal(err.reason, reason);
        assert.equal(err.pos, pos);
        assert.equal(err.message, `${reason} at column ${pos + 1} of "${src}"`);
        return true;
      });
    });
  }

  it('reports an invalid regular expression when evaluating', () => {
    assert.throws(() => run('name =~ "("'), { code: 'REMON_ERR_EXPR_EVAL' });
  });
});

/** stripPos drops positions, to compare the shape of two parses of different text. */
function stripPos(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node, (k, v) => (k === 'pos' ? undefined : v)));
}
