import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { registry } from '../src/registry';
import { silentLogger } from '../src/log';
import { freePort, sleep, stopChild, tmpDir, waitFor, writeConfig } from './helpers';
import { probeBlock, resetProbeLog } from './probe-block';

const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');
const token = 'reload-token';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

describe('reload', function () {
  this.timeout(20_000);
  let e: Engine;
  let file: string;
  let base: string;
  let head: string;
  const post = (): Promise<{ status: number; body: any }> => json(`${base}/api/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const block = async (name: string) => (await json(`${base}/api/blocks/${name}`)).body;

  beforeEach(async () => {
    resetProbeLog();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    head = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}", token: ${token} }\nstorage: { kind: memory }\nblocks:\n`;
    file = writeConfig(`${head}` +
      '  - { name: keep, type: probe, every: 50ms, value: 1 }\n' +
      '  - { name: change, type: probe, every: 50ms, value: 1 }\n' +
      '  - { name: gone, type: probe, every: 50ms, value: 1 }\n' +
      '  - { name: job, type: heartbeat, period: 1h }\n');
    e = new Engine({ ...loadConfig(file, { ...registry, extraTypes: [probeBlock] }), log: silentLogger(), loadConfig: async () => loadConfig(file, { ...registry, extraTypes: [probeBlock] }) });
    await e.start();
    await waitFor(() => (e.blockStatus('keep')?.runs ?? 0) >= 3 && (e.blockStatus('gone')?.runs ?? 0) >= 3, 3000, 'a few runs');
    assert.equal((await fetch(`${base}/hb/job`)).status, 200);
  });
  afterEach(() => e.stop());

  it('starts added blocks, stops removed ones, restarts changed ones; unchanged ones keep their state and schedule', async () => {
    fs.writeFileSync(file, `${head}` +
      '  - { name: keep, type: probe, every: 50ms, value: 1 }\n' +
      '  - { name: change, type: probe, every: 50ms, value: 2 }\n' +
      '  - { name: added, type: probe, every: 50ms, value: 3 }\n' +
      '  - { name: job, type: heartbeat, period: 2h }\n');
    const keepBefore = await block('keep');
    const r = await post();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { added: ['added'], removed: ['gone'], changed: ['change', 'job'], unchanged: 1, restartNeeded: [] });
    assert.ok((await block('keep')).runs >= keepBefore.runs, 'keep was not reset');
    assert.equal((await json(`${base}/api/blocks/gone`)).status, 404);
    await sleep(300);
    const keep = await block('keep');
    assert.ok(keep.runs >= keepBefore.runs + 4, `keep ran ${keep.runs - keepBefore.runs} more times`);
    // Its schedule was kept: it ran on (above); a tick or two missed is the loaded machine's
    // stall during the reload, not a reset (a reset block would have started from zero runs).
    assert.ok(keep.missed <= 2, `keep missed ${keep.missed} ticks`);
    assert.equal((await block('change')).fields.value, 2);
    assert.equal((await block('added')).fields.value, 3);
    // The heartbeat keeps its state, with the new period.
    const hb = (await json(`${base}/api/heartbeats/job`)).body;
    assert.deepEqual([hb.state, hb.schedule, hb.source, hb.differs], ['up', 'every 2h', 'monitor.yaml', []]);
    assert.equal((await block('job')).status, 'ok');
    // Nothing of the removed block runs any more.
    const names = (await json(`${base}/api/blocks`)).body.map((b: { name: string }) => b.name);
    assert.deepEqual(names.sort(), ['added', 'change', 'job', 'keep']);
  });

  it('refuses a file with errors with the messages of remon check, and keeps the running config', async () => {
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, `${head}  - { name: keep, type: probe, every: 5x }\n  - { name: other, type: shel }\n`);
    const r = await post();
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'REMON_ERR_RELOAD_INVALID');
    assert.deepEqual(r.body.problems, [
      `${file}:4:39: blocks[0].every: expected a duration like 500ms, 5s, 1m, 2h, 1d or 1w; got "5x"`,
      `${file}:5:26: blocks[1].type: unknown block type "shel"; did you mean "shell"? known types: heartbeat, http, ping, probe, redis, shell, snmp, sql, trap`,
    ]);
    assert.match(r.body.error, /^reload refused; the running config is kept:\n/);
    const names = (await json(`${base}/api/blocks`)).body.map((b: { name: string }) => b.name).sort();
    assert.deepEqual(names, ['change', 'gone', 'job', 'keep']);
    const runs = e.blockStatus('gone')!.runs;
    await sleep(200);
    assert.ok(e.blockStatus('gone')!.runs > runs, 'the running blocks go on');
    fs.writeFileSync(file, good);
    assert.equal((await post()).status, 200);
  });

  it('says which changed sections need a restart, and applies the blocks', async () => {
    fs.writeFileSync(file, head.replace('storage: { kind: memory }', 'storage: { kind: rrd }') +
      '  - { name: keep, type: probe, every: 50ms, value: 1 }\n  - { name: job, type: heartbeat, period: 1h }\n');
    const r = await post();
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { added: [], removed: ['change', 'gone'], changed: [], unchanged: 2, restartNeeded: ['storage'] });
    assert.equal(e.config.storage.kind, 'memory', 'the running store stays');
    assert.equal(e.store.status().kind, 'memory');
  });

  it('needs the token', async () => {
    const r = await json(`${base}/api/reload`, { method: 'POST' });
    assert.equal(r.status, 401);
  });
});

describe('reload on SIGHUP', function () {
  this.timeout(30_000);
  let child: ChildProcess | undefined;
  after(() => stopChild(child, 2000));

  it('remon run re-reads monitor.yaml on SIGHUP; a bad file is logged and the running config kept', async () => {
    const port = await freePort();
    const dir = tmpDir();
    const head = `node: { listen: "127.0.0.1:${port}", data: ./data }\nstorage: { kind: memory }\nblocks:\n`;
    const file = writeConfig(`${head}  - { name: one, type: shell, every: 1s, command: "echo 1", parse: number }\n`, dir);
    let out = '';
    child = spawn(process.execPath, [MAIN, 'run', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => { out += c; });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 10_000, 'the node');
    fs.writeFileSync(file, `${head}  - { name: one, type: shell, every: 1s, command: "echo 1", parse: number }\n  - { name: two, type: shell, every: 1s, command: "echo 2", parse: number }\n`);
    child.kill('SIGHUP');
    await waitFor(async () => (await fetch(`${url}/api/blocks/two`)).status === 200, 5000, 'block two after SIGHUP');
    fs.writeFileSync(file, `${head}  - { name: one, type: shel }\n`);
    child.kill('SIGHUP');
    await waitFor(() => out.includes('reload on SIGHUP refused'), 5000, 'the refusal in the log');
    assert.match(out, /blocks\[0\]\.type: unknown block type \\"shel\\"/);
    assert.equal((await fetch(`${url}/api/blocks/two`)).status, 200, 'the running config is kept');
    assert.equal(child.exitCode, null, 'the node runs on');
  });
});
