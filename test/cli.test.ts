import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, processesMatching, sleep, tmpDir, uniqueMarker, waitFor, writeConfig } from './helpers';

const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

function remon(args: string[], options: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: options.cwd, timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli', () => {
  describe('--help', () => {
    for (const cmd of ['run', 'check', 'once', 'schema']) {
      it(`remon ${cmd} --help prints its usage and exits 0`, () => {
        const r = remon([cmd, '--help']);
        assert.equal(r.code, 0);
        assert.match(r.out, new RegExp(`^Usage: remon ${cmd === 'run' ? '\\[run\\]' : cmd}`));
      });
    }
    it('remon --help lists the commands', () => {
      const r = remon(['--help']);
      assert.equal(r.code, 0);
      for (const cmd of ['check', 'once', 'schema']) assert.match(r.out, new RegExp(`remon ${cmd}`));
    });
    it('an unknown command or option is a usage error (exit 2)', () => {
      assert.equal(remon(['frobnicate']).code, 2);
      const r = remon(['check', '--bogus']);
      assert.equal(r.code, 2);
      assert.match(r.err, /Unknown option '--bogus'/);
    });
  });

  describe('check', () => {
    it('exits 0 on a valid file', () => {
      const file = writeConfig('blocks:\n  - { name: a, type: shell, command: "true" }\n');
      const r = remon(['check', file]);
      assert.equal(r.code, 0);
      assert.equal(r.out, `${file}: ok (1 block)\n`);
    });
    it('the example monitor.yaml is valid', () => {
      const r = remon(['check', path.resolve(__dirname, '..', '..', 'monitor.yaml')]);
      assert.equal(r.code, 0, r.err);
    });
    it('prints every problem with its position and exits 2, without a stack trace', () => {
      const dir = tmpDir();
      const file = writeConfig('blocks:\n  - name: a\n    type: shell\n    every: 5 seconds\n    commnd: "true"\n', dir);
      const r = remon(['check', 'monitor.yaml'], { cwd: dir });
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(
        r.err,
        'monitor.yaml:4:12: blocks[0].every: expected a duration like 500ms, 5s, 1m, 2h, 1d or 1w; got "5 seconds"; did you mean 5s?\n' +
          'monitor.yaml:5:5: blocks[0].commnd: unknown key "commnd"; did you mean "command"?\n' +
          '2 problems in monitor.yaml\n',
      );
      assert.ok(fs.existsSync(file));
    });
    it('stderr holds only the messages of remon: a mapping used as a key gets no warning of the YAML library', () => {
      const dir = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'invalid');
      const expected = [...fs.readFileSync(path.join(dir, 'key-is-a-map.yaml'), 'utf8').matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
      const r = remon(['check', 'key-is-a-map.yaml'], { cwd: dir });
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(r.err, `${expected.join('\n')}\n1 problem in key-is-a-map.yaml\n`);
    });
    it('a missing file is exit 2 with the reason', () => {
      const r = remon(['check', '/nonexistent/monitor.yaml']);
      assert.equal(r.code, 2);
      assert.match(r.err, /^remon: cannot read \/nonexistent\/monitor.yaml: ENOENT/);
    });
  });

  describe('once', () => {
    const yaml = 'blocks:\n' +
      '  - { name: good, type: shell, command: "echo 41.5", parse: number }\n' +
      '  - { name: bad, type: shell, command: "echo oops >&2; exit 3" }\n' +
      '  - { name: off, type: shell, command: "true", disabled: true }\n';

    it('--json prints one result per active block; exit 1 when one failed', () => {
      const r = remon(['once', writeConfig(yaml), '--json']);
      assert.equal(r.code, 1);
      const results = JSON.parse(r.out) as Array<Record<string, any>>;
      assert.deepEqual(results.map((x) => x.block), ['good', 'bad']);
      assert.equal(results[0].ok, true);
      assert.deepEqual(results[0].fields, { exit_code: 0, value: 41.5 });
      assert.equal(results[1].ok, false);
      assert.equal(results[1].message, 'exit code 3, expected 0: oops');
      assert.ok(!Number.isNaN(Date.parse(results[0].startedAt)));
    });

    it('prints a table by default; exit 0 when all are ok', () => {
      const r = remon(['once', writeConfig('blocks:\n  - { name: good, type: shell, command: "echo 7", parse: number }\n')]);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split('\n');
      assert.match(lines[0], /^BLOCK\s+TYPE\s+STATUS\s+DURATION\s+FIELDS\s+MESSAGE$/);
      assert.match(lines[2], /^good\s+shell\s+ok\s+[\d.]+ms\s+exit_code=0 value=7$/);
    });

    it('loads user block types from node.block_dirs', () => {
      const dir = tmpDir();
      fs.mkdirSync(path.join(dir, 'myblocks', 'dice'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'myblocks', 'dice', 'index.js'), `
        module.exports = {
          type: 'dice', description: 'a fixed roll',
          schema: { properties: { sides: { type: 'integer', minimum: 2 } }, required: ['sides'] },
          create: (o) => ({ run: async () => ({ fields: { roll: o.sides } }) }),
        };`);
      const file = writeConfig('node: { block_dirs: [myblocks] }\nblocks:\n  - { name: d, type: dice, sides: 6 }\n', dir);
      const r = remon(['once', file, '--json']);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out)[0].fields, { roll: 6 });
      const bad = writeConfig('node: { block_dirs: [myblocks] }\nblocks:\n  - { name: d, type: dice, sides: 1 }\n', dir);
      const c = remon(['check', bad]);
      assert.equal(c.code, 2);
      assert.match(c.err, /monitor.yaml:3:35: blocks\[0\]\.sides: must be at least 2; got 1\n1 problem in/);
    });
  });

  describe('run', () => {
    let child: ChildProcess | undefined;
    afterEach(() => child?.kill('SIGKILL'));

    it('serves /healthz and /api/blocks, and SIGTERM stops it with exit 0 and no child process left', async () => {
      const port = await freePort();
      const marker = uniqueMarker();
      const dir = tmpDir();
      const file = writeConfig(
        `node: { listen: "127.0.0.1:${port}", data: ./state }\n` +
          'blocks:\n' +
          `  - { name: hang, type: shell, every: 1s, timeout: 60s, command: "sleep ${marker}; echo" }\n` +
          '  - { name: quick, type: shell, every: 1s, command: "echo 3", parse: number }\n',
        dir,
      );
      child = spawn(process.execPath, [MAIN, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let logs = '';
      child.stdout!.on('data', (c) => (logs += c));
      const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 10_000, '/healthz');
      await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 5000, 'the hanging command');
      await waitFor(async () => {
        const blocks = (await (await fetch(`http://127.0.0.1:${port}/api/blocks`)).json()) as Array<{ name: string; status: string; fields: Record<string, number> }>;
        return blocks.find((b) => b.name === 'quick')?.fields.value === 3;
      }, 5000, 'the quick block result');
      assert.ok(fs.existsSync(path.join(dir, 'state')), 'node.data was created');
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(5000).then(() => 'timeout')]);
      assert.equal(code, 0, logs);
      await waitFor(() => processesMatching(marker).length === 0, 2000, 'no leftover process');
      assert.match(logs, /"msg":"remon stopped"/);
    });

    it('exits 2 on a config error, without a stack trace', () => {
      const r = remon(['run', writeConfig('blocks: 5\n')]);
      assert.equal(r.code, 2);
      assert.doesNotMatch(r.err, /\n\s+at /);
      assert.match(r.err, /monitor.yaml:1:9: blocks: expected a list of blocks, each starting with "- name:"; got 5/);
    });

    it('a second node on the same node.data exits 1 naming the first; once the first is killed with SIGKILL, a node starts there', async () => {
      const dir = tmpDir();
      const config = (port: number): string => writeConfig(
        `node: { listen: "127.0.0.1:${port}", data: ${path.join(dir, 'data')} }\n` +
          'blocks:\n  - { name: quick, type: shell, every: 1s, command: "echo 3", parse: number }\n  - { name: job, type: heartbeat, period: 1h }\n',
      );
      const port = await freePort();
      child = spawn(process.execPath, [MAIN, config(port)], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child!.on('exit', resolve));
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 10_000, '/healthz');
      const second = remon(['run', config(await freePort())]);
      assert.equal(second.code, 1, second.err);
      assert.match(second.err, new RegExp(`^remon: the RRD store in ${dir}/data/rrd is in use by process ${child.pid}; two nodes cannot share one node.data\\n$`));
      // The first node is unharmed: it still runs its blocks.
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      child.kill('SIGKILL');
      await exited;
      const port3 = await freePort();
      child = spawn(process.execPath, [MAIN, config(port3)], { stdio: 'ignore' });
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port3}/healthz`).catch(() => undefined))?.status === 200, 10_000, 'the node after the kill');
      assert.equal(fs.readFileSync(path.join(dir, 'data', 'rrd', 'LOCK'), 'utf8'), `${child.pid}\n`);
      assert.equal(fs.readFileSync(path.join(dir, 'data', 'heartbeats', 'LOCK'), 'utf8'), `${child.pid}\n`);
    });

    it('exits 1 when the port is taken', async () => {
      const port = await freePort();
      const holder = require('node:net').createServer().listen(port, '127.0.0.1');
      await new Promise((r) => holder.once('listening', r));
      try {
        const r = remon(['run', writeConfig(`node: { listen: "127.0.0.1:${port}", data: ${tmpDir()} }\n`)]);
        assert.equal(r.code, 1);
        assert.match(r.err, new RegExp(`cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`));
      } finally {
        holder.close();
      }
    });
  });
});
