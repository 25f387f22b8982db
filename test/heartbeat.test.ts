import { strict as assert } from 'node:assert';
import { heartbeatBlock } from '../blocks/heartbeat';
import { freePort, sleep, tmpDir, waitFor, writeConfig } from './helpers';
import { get, remon, RemonNode } from './remon-node';

describe('heartbeats on a running node (HTTP and CLI)', function () {
  this.timeout(30_000);
  const token = 'hb-test-token';
  let node: RemonNode;
  let url: string;
  let env: Record<string, string>;
  let deadUrl: string;

  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = { REMON_URL: url };
    deadUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const file = writeConfig(
      `node: { listen: "127.0.0.1:${port}", data: ./data, token: ${token} }\n` +
        'storage: { kind: memory }\n' +
        'blocks:\n' +
        '  - { name: job, type: heartbeat, period: 1h, grace: 5m, description: nightly job }\n' +
        '  - { name: quick, type: heartbeat, period: 1s, grace: 500ms }\n' +
        '  - { name: tick, type: heartbeat, schedule: "*/2 * * * * *", grace: 1s }\n' +
        '  - { name: etl, type: heartbeat, period: 1d, max_runtime: 1h }\n' +
        '  - { name: load, type: shell, mode: once, command: "echo 1", parse: number }\n',
    );
    node = await RemonNode.start(file, url);
  });
  after(() => node?.kill('SIGKILL'));

  it('accepts success, start, fail and exit-code signals by GET, HEAD or POST, without the token', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['GET', '/hb/job', 200, 'up'],
      ['POST', '/hb/job/fail', 200, 'down'],
      ['GET', '/hb/job/0', 200, 'up'],
      ['POST', '/hb/job/3', 200, 'down'],
      ['POST', '/hb/job/', 200, 'up'],
      ['GET', '/hb/job/start', 200, 'up'],
    ];
    for (const [method, p, status, state] of cases) {
      const res = await fetch(`${url}${p}`, { method });
      assert.equal(res.status, status, `${method} ${p}`);
      assert.deepEqual(await res.json(), { ok: true, name: 'job', state }, `${method} ${p}`);
    }
    const head = await fetch(`${url}/hb/job`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const hb = await get(`${url}/api/heartbeats/job`);
    assert.deepEqual(hb.signals.slice(0, 7).map((s: { kind: string; exitCode?: number }) => s.kind + (s.exitCode ?? '')), [
      'success', 'start', 'success', 'exit3', 'exit0', 'fail', 'success',
    ]);
    assert.equal(hb.description, 'nightly job');
    assert.deepEqual(hb.events.slice(0, 4).map((e: { kind: string }) => e.kind), ['recovered', 'down', 'recovered', 'down']);
    assert.match(hb.events[1].message, /^down: failed with exit code 3$/);
  });

  it('pairs a start and its success by run id and measures the run time', async () => {
    await fetch(`${url}/hb/etl/start?rid=run-1`, { method: 'POST' });
    await fetch(`${url}/hb/etl/start?rid=run-2`, { method: 'POST' });
    await sleep(250);
    await fetch(`${url}/hb/etl?rid=run-1`, { method: 'POST', body: 'copied 12 files' });
    const hb = await get(`${url}/api/heartbeats/etl`);
    assert.deepEqual(hb.running.map((r: { rid: string }) => r.rid), ['run-2']);
    assert.equal(hb.signals[0].rid, 'run-1');
    assert.equal(hb.signals[0].body, 'copied 12 files');
    assert.ok(hb.signals[0].runtimeS >= 0.25 && hb.signals[0].runtimeS < 5, `runtime ${hb.signals[0].runtimeS}`);
    assert.ok(hb.lastRuntimeS >= 0.25);
  });

  const bad: Array<[string, string, number, RegExp]> = [
    ['an exit code over 255', '/hb/job/256', 400, /^exit codes are 0-255; got 256$/],
    ['a negative exit code', '/hb/job/-1', 400, /^exit codes are 0-255; got -1$/],
    ['an unknown action', '/hb/job/finish', 400, /^unknown signal "finish"; expected \/hb\/NAME, /],
    ['too many path parts', '/hb/job/start/now', 400, /^expected \/hb\/NAME, \/hb\/NAME\/start/],
    ['no name', '/hb', 400, /^expected \/hb\/NAME, \/hb\/NAME\/start/],
    ['a query in place of the name', '/hb?job', 400, /^expected \/hb\/NAME, \/hb\/NAME\/start/],
    ['a name with a dot', '/hb/bad.name', 400, /^heartbeat names are 1-128 letters, digits, _ and -$/],
    ['a name too long', `/hb/${'x'.repeat(129)}`, 400, /^heartbeat names are/],
    ['a bad %-escape', '/hb/%E0%A4%A', 400, /bad %-escape/],
    ['a bad run id', '/hb/job?rid=a%20b', 400, /^rid must be 1-64 letters/],
    ['an unknown name', '/hb/nosuch', 404, /^no heartbeat is named "nosuch"; add it to monitor.yaml, create it with `remon config nosuch --period 1d`, or set node.auto_create: true$/],
    ['a block that is not a heartbeat', '/hb/load', 404, /^block "load" is not a heartbeat$/],
  ];
  for (const [what, p, status, error] of bad) {
    it(`answers ${what} (${p.slice(0, 40)}) with ${status} and a reason`, async () => {
      const res = await fetch(`${url}${p}`, { method: 'POST' });
      assert.equal(res.status, status);
      assert.match(((await res.json()) as { error: string }).error, error);
    });
  }

  it('answers other methods with 405', async () => {
    const res = await fetch(`${url}/hb/job`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD, POST');
  });

  it('cuts an oversize body to its first 10 kB instead of refusing it', async () => {
    const text = `${'é'.repeat(3000)}${'x'.repeat(50_000)}`;
    const res = await fetch(`${url}/hb/job`, { method: 'POST', body: text });
    assert.equal(res.status, 200);
    const hb = await get(`${url}/api/heartbeats/job`);
    assert.equal(Buffer.byteLength(hb.signals[0].body), 10 * 1024);
    assert.equal(hb.signals[0].body, text.slice(0, 3000 + 10 * 1024 - 6000));
  });

  it('real clock: a 1s period is late at its deadline and down at deadline + grace, then recovers', async () => {
    const t0 = Date.now();
    await fetch(`${url}/hb/quick`);
    const success = Date.parse((await get(`${url}/api/heartbeats/quick`)).lastSuccess);
    await waitFor(() => node.events('quick').some((e) => e.event === 'down' && Date.parse(e.at!) > t0), 4000, 'quick down');
    const late = node.events('quick').find((e) => e.event === 'late' && Date.parse(e.at!) > success)!;
    const down = node.events('quick').find((e) => e.event === 'down' && Date.parse(e.at!) > success)!;
    // Fired by a timer at the deadline, not found by a poll: a few ms late at most.
    const lateBy = Date.parse(late.at!) - (success + 1000);
    const downBy = Date.parse(down.at!) - (success + 1500);
    assert.ok(lateBy >= 0 && lateBy < 250, `late fired ${lateBy} ms after the deadline`);
    assert.ok(downBy >= 0 && downBy < 250, `down fired ${downBy} ms after deadline + grace`);
    await fetch(`${url}/hb/quick`);
    await waitFor(() => node.events('quick').some((e) => e.event === 'recovered'), 2000, 'recovered');
    assert.match(node.events('quick').find((e) => e.event === 'recovered')!.message!, /^recovered after being down for \d+s$/);
  });

  it('real clock: a cron schedule with seconds has its deadline on the next fire time', async () => {
    await fetch(`${url}/hb/tick`);
    const hb = await get(`${url}/api/heartbeats/tick`);
    const due = Date.parse(hb.nextDeadline);
    assert.equal(due % 2000, 0);
    assert.ok(due > Date.parse(hb.lastSuccess) && due <= Date.parse(hb.lastSuccess) + 2000);
    assert.equal(hb.schedule, 'cron */2 * * * * *');
  });

  it('turns state changes into series: <name>.up, late_s, error_count, runtime_s', async () => {
    const names = (await get(`${url}/api/series`)) as string[];
    for (const s of ['job.up', 'job.late_s', 'job.error_count', 'etl.runtime_s']) assert.ok(names.includes(s), s);
    assert.ok(!names.includes('job.duration_ms'), 'a passive block has no run duration');
    // remon check knows these names: the type declares its fields.
    const declared = heartbeatBlock.fields!({} as never)!;
    for (const s of names.filter((n) => /^(job|etl)\./.test(n))) assert.ok(s.endsWith('.up') || declared.includes(s.split('.')[1]), s);
    const blocks = (await get(`${url}/api/blocks`)) as Array<{ name: string; mode: string; type: string }>;
    assert.deepEqual(blocks.find((b) => b.name === 'job'), { ...blocks.find((b) => b.name === 'job'), mode: 'passive', type: 'heartbeat' });
  });

  it('remon send: success, --start/--rid, --exit-code and --message; exit 1 for an unknown name, 2 for usage errors', () => {
    let r = remon(['send', 'etl', '--start', '--rid', 'cli-1'], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'etl: signal accepted; state up\n');
    r = remon(['send', 'etl', '--rid', 'cli-1', '--exit-code', '0', '--message', 'all good'], env);
    assert.equal(r.code, 0, r.err);
    r = remon(['send', 'etl', '--exit-code', '7', '--message', '-'], env, 'stderr of the job\nline 2\n');
    assert.equal(r.out, 'etl: signal accepted; state down\n');
    r = remon(['send', 'etl', '--fail', '--url', url]);
    assert.equal(r.code, 0, r.err);
    r = remon(['send', 'etl'], env);
    assert.equal(r.out, 'etl: signal accepted; state up\n');
    r = remon(['send', 'nosuch'], env);
    assert.equal(r.code, 1);
    assert.match(r.err, /^remon send: no heartbeat is named "nosuch"; .* \(HTTP 404\)\n$/);
    const usage: Array<[string[], RegExp]> = [
      [['send'], /missing the heartbeat NAME/],
      [['send', 'etl', '--exit-code', '256'], /exit codes are 0-255; got 256/],
      [['send', 'etl', '--start', '--fail'], /give one of --start, --fail, not several/],
      [['send', 'bad.name'], /bad heartbeat name "bad.name"/],
      [['send', 'etl', '--bogus'], /Unknown option '--bogus'/],
      [['send', 'etl', '--url', 'ftp://x'], /--url must be http:\/\/HOST:PORT/],
    ];
    for (const [args, why] of usage) {
      r = remon(args, env);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, why);
    }
    const etl = remon(['send', 'etl', '--url', deadUrl]);
    assert.equal(etl.code, 1);
    assert.equal(etl.err, `remon send: cannot reach the node at ${deadUrl}: ECONNREFUSED (set --url or REMON_URL)\n`);
  });

  it('remon send\'s message is kept in the history', async () => {
    const hb = await get(`${url}/api/heartbeats/etl`);
    const exit7 = hb.signals.find((s: { exitCode?: number }) => s.exitCode === 7);
    assert.equal(exit7.body, 'stderr of the job\nline 2\n');
    assert.ok(hb.signals.some((s: { rid?: string; runtimeS?: number; body?: string }) => s.rid === 'cli-1' && s.runtimeS !== undefined && s.body === 'all good'));
  });

  it('remon config: needs the token; creates and edits heartbeats, shown as differing from monitor.yaml', async () => {
    let r = remon(['config', 'job', '--period', '2h'], env);
    assert.equal(r.code, 1);
    assert.match(r.err, /missing or wrong bearer token .* \(give the node's token with --token or REMON_TOKEN\) \(HTTP 401\)/);
    const auth = { ...env, REMON_TOKEN: token };
    r = remon(['config', 'job', '--period', '2h', '--grace', '10m'], auth);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'updated heartbeat job: every 2h, grace 10m; state up\n' +
      'It differs from monitor.yaml until written back: period 2h (monitor.yaml: 1h), grace 10m (monitor.yaml: 5m). The block as it is now:\n' +
      '  - name: job\n    type: heartbeat\n    period: 2h\n    grace: 10m\n    description: nightly job\n');
    r = remon(['config', 'backup', '--schedule', '30 2 * * *', '--tz', 'Europe/Berlin', '--token', token], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^created heartbeat backup: cron 30 2 \* \* \* \(Europe\/Berlin\), grace 1m; state new\nIt is not in monitor.yaml; to keep it there, add to blocks:\n  - name: backup\n    type: heartbeat\n    schedule: "30 2 \* \* \*"\n    tz: Europe\/Berlin\n$/);
    assert.equal((await fetch(`${url}/hb/backup`)).status, 200);
    const hbs = (await get(`${url}/api/heartbeats`)) as Array<{ name: string; source: string; differs: unknown[] }>;
    assert.deepEqual(hbs.map((h) => [h.name, h.source, h.differs.length]), [
      ['backup', 'runtime', 2], ['etl', 'monitor.yaml', 0], ['job', 'monitor.yaml', 2], ['quick', 'monitor.yaml', 0], ['tick', 'monitor.yaml', 0],
    ]);
    const usage: Array<[string[], RegExp]> = [
      [['config', 'job'], /nothing to change/],
      [['config', 'job', '--period', 'soon'], /--period must be a duration like 30s, 5m, 1h or 1d; got "soon"/],
      [['config', 'job', '--schedule', '61 * * * *'], /--schedule is not a cron expression \(Invalid value for minute: 61\)/],
      [['config', 'job', '--tz', 'Mars/Olympus'], /unknown time zone "Mars\/Olympus"/],
      [['config', 'job', '--enable', '--disable'], /--enable or --disable, not both/],
      [['config', 'job', '--tz', 'UTC'], /tz: only applies to schedule/],
    ];
    for (const [args, why] of usage) {
      r = remon(args, auth);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, why);
    }
    r = remon(['config', 'load', '--period', '1h'], auth);
    assert.equal(r.code, 1);
    assert.match(r.err, /block "load" is not a heartbeat \(HTTP 409\)/);
  });

  it('remon config --disable pauses a heartbeat and --enable resumes it', async () => {
    const auth = { ...env, REMON_TOKEN: token };
    let r = remon(['config', 'quick', '--disable'], auth);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^updated heartbeat quick: every 1s, grace 500ms, paused; state paused\n/);
    // (The log arrives through a pipe the blocking CLI call left unread.)
    await waitFor(() => node.events('quick').some((e) => e.event === 'paused'), 2000, 'the paused event');
    const before = node.events('quick').length;
    await sleep(1800);
    assert.equal(node.events('quick').length, before, 'a paused heartbeat has no deadlines');
    r = remon(['config', 'quick', '--enable', '--json'], auth);
    assert.equal(r.code, 0, r.err);
    const v = JSON.parse(r.out);
    assert.equal(v.state, 'up');
    assert.deepEqual(v.differs, []);
    await waitFor(() => node.events('quick').slice(-1).some((e) => e.event === 'resumed'), 2000, 'the resumed event');
  });

  it('remon status prints the blocks, the heartbeats and the SLAs as tables', () => {
    const r = remon(['status'], env);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines[0], `node ${url}`);
    assert.match(r.out, /^BLOCK\s+TYPE\s+STATUS\s+LAST RUN\s+FIELDS\s+ERROR$/m);
    assert.match(r.out, /^load\s+shell\s+ok\s+(now|\S+ ago)\s+exit_code=0 value=1 duration_ms=[\d.]+$/m);
    assert.match(r.out, /^HEARTBEAT\s+STATE\s+SCHEDULE\s+GRACE\s+LAST SUCCESS\s+NEXT DEADLINE\s+ERRORS\s+NOTE$/m);
    assert.match(r.out, /^backup\s+up\s+cron 30 2 \* \* \* \(Europe\/Berlin\)\s+1m\s+\S+ ago\s+in \S+\s+0\s+created at run time, not in monitor.yaml$/m);
    assert.match(r.out, /^job\s+\w+\s+every 2h\s+10m\s+.*differs from monitor.yaml: period 2h \(file 1h\), grace 10m \(file 5m\)$/m);
    assert.match(r.out, /\n\(no SLAs\)\n/);
    const json = JSON.parse(remon(['status', '--json'], env).out);
    assert.deepEqual(Object.keys(json), ['blocks', 'heartbeats', 'slas', 'alerts']);
    assert.equal(remon(['status', '--url', deadUrl]).code, 1);
  });

  for (const cmd of ['send', 'config', 'status']) {
    it(`remon ${cmd} --help prints its usage and exits 0`, () => {
      const r = remon([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^Usage: remon ${cmd} `));
      assert.equal(remon(['help', cmd]).out, r.out);
    });
  }
});

describe('heartbeats across restarts', function () {
  this.timeout(30_000);
  let node: RemonNode | undefined;
  afterEach(() => node?.kill('SIGKILL'));

  async function fresh(blocks: string, nodeExtra = ''): Promise<{ file: string; url: string }> {
    const port = await freePort();
    const dir = tmpDir();
    const file = writeConfig(`node: { listen: "127.0.0.1:${port}", data: ./data${nodeExtra} }\nblocks:\n${blocks}`, dir);
    return { file, url: `http://127.0.0.1:${port}` };
  }

  it('kill -9 right after an accepted signal: after a restart the signal is there', async () => {
    const { file, url } = await fresh('  - { name: job, type: heartbeat, period: 1h }\n', ', auto_create: true');
    node = await RemonNode.start(file, url);
    const res = await fetch(`${url}/hb/job`, { method: 'POST', body: 'before the crash' });
    const created = await fetch(`${url}/hb/made-on-the-fly/start?rid=r9`, { method: 'POST' });
    assert.deepEqual([res.status, created.status], [200, 200]);
    assert.equal(await node.kill('SIGKILL'), null);
    node = await RemonNode.start(file, url);
    const hb = await get(`${url}/api/heartbeats/job`);
    assert.equal(hb.state, 'up');
    assert.equal(hb.signals[0].body, 'before the crash');
    const auto = await get(`${url}/api/heartbeats/made-on-the-fly`);
    assert.deepEqual([auto.source, auto.schedule, auto.running[0].rid], ['runtime', 'every 1d', 'r9']);
    // /api/blocks says the same as /api/heartbeats at once, not "unknown" until a signal.
    const block = await get(`${url}/api/blocks/job`);
    assert.deepEqual([block.status, block.fields.up, block.lastRun], ['ok', 1, hb.lastSignal]);
  });

  it('a deadline that passed while the node was down fires at once after a restart, exactly once', async () => {
    const { file, url } = await fresh('  - { name: hb, type: heartbeat, period: 4s, grace: 1s }\n');
    node = await RemonNode.start(file, url);
    await fetch(`${url}/hb/hb`);
    const success = Date.parse((await get(`${url}/api/heartbeats/hb`)).lastSuccess);
    assert.equal(await node.kill('SIGTERM'), 0);
    await sleep(Math.max(0, success + 5300 - Date.now())); // deadline + grace pass while it is down
    node = await RemonNode.start(file, url);
    await waitFor(() => node!.events('hb').length > 0, 2000, 'the down event');
    const started = Date.parse(node.logs().find((l) => l.msg === 'heartbeats loaded')!.time);
    const [down] = node.events('hb');
    assert.equal(down.event, 'down');
    assert.ok(Date.parse(down.at!) - started < 1000, `fired ${Date.parse(down.at!) - started} ms after the journal was loaded`);
    assert.match(down.message!, /^down: no success since .*; expected by .*, grace 1s$/);
    assert.equal((await get(`${url}/api/heartbeats/hb`)).errorCount, 1);
    // Restarted again: the recorded miss does not fire again (a later deadline, if the
    // restart took that long, is a "missed" event, not another "down").
    assert.equal(await node.kill('SIGKILL'), null);
    node = await RemonNode.start(file, url);
    await sleep(300);
    assert.deepEqual(node.events('hb').filter((e) => e.event === 'down'), []);
    const hb = await get(`${url}/api/heartbeats/hb`);
    assert.equal(hb.state, 'down');
    assert.equal(hb.events.filter((e: { kind: string }) => e.kind === 'down').length, 1);
    const block = await get(`${url}/api/blocks/hb`);
    assert.deepEqual([block.status, block.fields.up], ['fail', 0]);
    assert.ok(block.lastError === down.message || /missed/.test(block.lastError), block.lastError);
  });
});
