/**
 * remon installs on a machine without a C++ compiler: `npm ci` of the project's
 * package.json and package-lock.json, with a PATH of node, npm, sh and python3 only (no
 * g++, gcc, cc, c++, make), succeeds without the raw-socket addon (an optional dependency
 * whose node-gyp build fails), and the ping block there falls back to the system ping and
 * says so once. The same install with raw-socket a required dependency fails: that is what
 * the optional dependency fixes. npm reads the packages from its cache (--offline; CI's
 * own `npm ci` filled it), falling back to --prefer-offline on a cache miss.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADDON_MISSING } from '../blocks/ping';
import { tmpDir } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPILERS = ['g++', 'gcc', 'cc', 'c++', 'make'];

interface Run {
  code: number | null;
  output: string;
}

/** run runs a command and gives its exit code and its stdout and stderr together. */
function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | undefined) ?? null : 0;
      resolve({ code: typeof code === 'number' ? code : null, output: `${stdout}\n${stderr}` });
    });
  });
}

/** onPath finds an executable on the test's own PATH, following symlinks. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.realpathSync(p);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** realPython is a python3 binary (not a shim script that needs more of PATH), if any. */
function realPython(): string | undefined {
  return ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'].find((p) => fs.existsSync(p));
}

/** requiredVariant is package.json and its lock as they were with raw-socket a required dependency. */
function requiredVariant(pkg: any, lock: any): [any, any] {
  const p = structuredClone(pkg);
  const l = structuredClone(lock);
  for (const m of [p, l.packages['']]) {
    m.dependencies['raw-socket'] = m.optionalDependencies['raw-socket'];
    delete m.optionalDependencies;
  }
  delete l.packages['node_modules/raw-socket'].optional;
  delete l.packages['node_modules/nan'].optional;
  return [p, l];
}

describe('install without a C++ compiler', function () {
  this.timeout(90_000);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const python = realPython();
  let bin: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    // A PATH of symlinks to just node, npm, sh and python3.
    bin = tmpDir('remon-bin-');
    const npm = onPath('npm');
    assert.ok(npm, 'npm is on PATH');
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    fs.symlinkSync(npm, path.join(bin, 'npm'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
    if (python) fs.symlinkSync(python, path.join(bin, 'python3'));
    for (const c of COMPILERS) assert.equal(fs.existsSync(path.join(bin, c)), false);
    env = { PATH: bin, HOME: os.homedir(), LANG: 'C.UTF-8' };
    if (process.env.npm_config_cache) env.npm_config_cache = process.env.npm_config_cache;
  });

  /** npmCi installs package.json and lock into a new directory with the compiler-less PATH. */
  const npmCi = async (p: unknown, l: unknown): Promise<Run & { dir: string }> => {
    const dir = tmpDir('remon-install-');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(p, null, 2));
    fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(l, null, 2));
    const args = ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'];
    let r = await run(path.join(bin, 'npm'), args, { cwd: dir, env, timeoutMs: 80_000 });
    if (r.code !== 0 && /ENOTCACHED/.test(r.output)) {
      fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
      r = await run(path.join(bin, 'npm'), args.map((a) => (a === '--offline' ? '--prefer-offline' : a)), { cwd: dir, env, timeoutMs: 80_000 });
    }
    return { ...r, dir };
  };

  // node-gyp stops at the first tool it misses: make when python3 is there.
  const gypFailure = python ? /gyp ERR! stack Error: not found: make/ : /gyp ERR! .*Python/;

  describe('raw-socket optional (package.json as it is)', () => {
    let installed: Run & { dir: string };
    before(async () => {
      installed = await npmCi(pkg, lock);
    });

    it('npm ci succeeds; the addon\'s build failed for want of a compiler and it is left out', () => {
      assert.equal(installed.code, 0, installed.output.slice(-3000));
      assert.match(installed.output, /> raw-socket@[\d.]+ install\n> node-gyp rebuild/);
      assert.match(installed.output, gypFailure);
      assert.equal(fs.existsSync(path.join(installed.dir, 'node_modules', 'raw-socket')), false, 'raw-socket absent');
      assert.equal(fs.existsSync(path.join(installed.dir, 'node_modules', 'nan')), false, 'its dependency nan absent');
      for (const dep of Object.keys(pkg.dependencies)) assert.ok(fs.existsSync(path.join(installed.dir, 'node_modules', dep, 'package.json')), `${dep} installed`);
    });

    it('require(\'raw-socket\') fails there with a code ADDON_MISSING knows', async () => {
      const r = await run(path.join(bin, 'node'), ['-e', "try { require('raw-socket'); console.log('loaded') } catch (e) { console.log(e.code) }"], { cwd: installed.dir, env, timeoutMs: 10_000 });
      const code = r.output.trim();
      assert.equal(code, 'MODULE_NOT_FOUND');
      assert.ok(ADDON_MISSING.has(code));
    });

    it('the ping block there falls back to the system ping and says so once', async () => {
      // remon's built code beside that node_modules, pinging loopback twice.
      for (const part of ['src', 'blocks']) {
        fs.cpSync(path.join(ROOT, 'dist', part), path.join(installed.dir, 'dist', part), { recursive: true, filter: (f) => !f.endsWith('.map') });
      }
      fs.writeFileSync(path.join(installed.dir, 'ping-twice.js'), PING_TWICE);
      const childEnv = { ...process.env };
      delete childEnv.REMON_PING_METHOD;
      const r = await run(process.execPath, ['ping-twice.js'], { cwd: installed.dir, env: childEnv, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.output);
      const { results, logs } = JSON.parse(r.output) as { results: Array<{ ok: boolean; output: string }>; logs: Array<{ level: number; msg: string; error?: string }> };
      for (const res of results) {
        assert.equal(res.ok, true, res.output);
        assert.match(res.output, /^PING 127\.0\.0\.1 via the system ping: 1 packets transmitted, 1 received, 0% packet loss\n/);
      }
      const warnings = logs.filter((l) => l.level === 40);
      assert.deepEqual(warnings.map((l) => l.msg), ['raw ICMP sockets unavailable; ping blocks run the system ping binary instead (one process per run)']);
      assert.match(warnings[0].error!, /^the raw-socket addon cannot be loaded: Cannot find module 'raw-socket'$/);
    });
  });

  it('the same install with raw-socket a required dependency fails (what the optional dependency fixes)', async () => {
    const [p, l] = requiredVariant(pkg, lock);
    const r = await npmCi(p, l);
    assert.notEqual(r.code, 0, 'npm ci failed');
    assert.match(r.output, gypFailure);
    assert.match(r.output, /npm error (path .*raw-socket|command failed)/);
  });
});

/** PING_TWICE runs the ping block twice on 127.0.0.1 and prints the results and its log records as JSON. */
const PING_TWICE = `
const { pingBlock } = require('./dist/blocks/ping');
const { createMemoryShared } = require('./dist/src/shared/memory');
const pino = require('pino');
const logs = [];
const log = pino({ level: 'info' }, { write: (s) => logs.push(JSON.parse(s)) });
(async () => {
  const block = pingBlock.create({ name: 'p', host: '127.0.0.1', count: 1 }, { name: 'p', configDir: '.', dataDir: '.', log, emit: () => undefined });
  const results = [];
  for (let i = 0; i < 2; i++) results.push(await block.run({ signal: new AbortController().signal, log, shared: createMemoryShared() }));
  console.log(JSON.stringify({ results, logs }));
})();
`;
