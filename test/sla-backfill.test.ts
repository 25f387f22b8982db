/**
 * Slots SLAs after an outage (src/sla/set.ts): the slots missed while the node was down
 * are evaluated from stored data through the backfill callback, each once, in order,
 * before the live ones; the bound; no backfill; a failing backfill; and the watermark in
 * the SLA log across kill -9 of a process evaluating slots.
 */
import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DurableLog } from '../src/durable/log';
import { SlaSpec, TestEval, transitionMessage } from '../src/sla';
import type { SlaRecord } from '../src/sla/log';
import { captureLog, tmpDir } from './helpers';
import type { SlaChildJob } from './sla-child';
import { passes } from './sla-child';
import { harness, MIN, rel, Script, SEC, T0 } from './sla-harness';

const spec: SlaSpec = { name: 'orders-flow', mode: 'slots', during: { cron: '* * * * *' } };
const mins = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => (from + i) * MIN);
const after = (calls: number[]): number[] => calls.map((t) => t - T0);

/** Stored data says orders were out of range from +20m to +25m. */
const stored = (at: number): boolean => !(at - T0 >= 20 * MIN && at - T0 <= 25 * MIN);

/** crashAfter runs a set for `minutes` slots, then plays kill -9 and the clock jumps over the outage. */
async function crashAfter(dir: string, minutes: number, outageMin: number): Promise<{ live: Script; clock: ReturnType<typeof harness>['clock'] }> {
  const live = new Script('orders.new');
  live.fn = stored;
  const h = harness([[spec, live]], { dir });
  await h.at(minutes * MIN + 30 * SEC);
  h.set.abandon();
  h.clock.jump(outageMin * MIN);
  return { live, clock: h.clock };
}

describe('SLA slots: backfill after an outage', () => {
  it('a 30-minute outage: missed slots evaluated from stored data, each once, in order, then live ones', async () => {
    const dir = tmpDir();
    const { live, clock } = await crashAfter(dir, 10, 30);
    const asked: Array<[string, string, string]> = [];
    const fromStore = new Script('orders.new');
    fromStore.fn = stored;
    const live2 = new Script('orders.new');
    live2.fn = stored;
    const h = harness([[spec, live2]], {
      dir,
      backfill: async (name, from, to) => {
        asked.push([name, rel(from - T0), rel(to - T0)]);
        return fromStore;
      },
    }, T0, clock);
    await h.set.ready();
    await h.at(45 * MIN);
    assert.deepEqual(after(live.calls), mins(1, 10));
    assert.deepEqual(asked, [['orders-flow', '+11m', '+40m']]);
    assert.deepEqual(after(fromStore.calls), mins(11, 40));
    assert.deepEqual(after(live2.calls), mins(41, 45));
    assert.equal(h.slas[0].watermark, T0 + 45 * MIN);
    assert.deepEqual(h.transitions.map((tr) => `${rel(tr.at - T0)} ${tr.from}→${tr.to}${tr.backfilled ? ' backfilled' : ''}`), ['+20m ok→firing backfilled', '+26m firing→ok backfilled']);
    assert.equal(
      transitionMessage(h.transitions[0], spec),
      'orders-flow firing: orders.new (false) >= 1 failed (missed slot at 2026-06-01T10:20:00.000Z, from stored data)',
    );
    assert.deepEqual(h.set.stats().backfilled, 30);
    h.set.stop();
  });

  it('live slots that come due while a backfill is out wait for it, then run in order', async () => {
    const dir = tmpDir();
    const { clock } = await crashAfter(dir, 5, 10);
    let release!: (t: TestEval) => void;
    const fromStore = new Script();
    const live = new Script();
    const h = harness([[spec, live]], { dir, backfill: () => new Promise<TestEval>((r) => { release = r; }) }, T0, clock);
    await h.at(18 * MIN + 30 * SEC);
    assert.deepEqual(live.calls, [], 'nothing evaluated while the backfill is out');
    release(fromStore);
    await h.set.ready();
    assert.deepEqual(after(fromStore.calls), mins(6, 15));
    assert.deepEqual(after(live.calls), mins(16, 18));
    await h.at(20 * MIN);
    assert.deepEqual(after(live.calls), mins(16, 20));
    h.set.stop();
  });

  it('more missed slots than the bound: the newest are evaluated, the oldest left out, and it says so', async () => {
    const dir = tmpDir();
    const { log, records } = captureLog();
    const { clock } = await crashAfter(dir, 5, 30);
    const fromStore = new Script();
    const asked: string[] = [];
    const h = harness([[spec, new Script()]], { dir, log, maxBackfillSlots: 5, backfill: (_n, from, to) => (asked.push(`${rel(from - T0)}..${rel(to - T0)}`), fromStore) }, T0, clock);
    await h.set.ready();
    assert.deepEqual(asked, ['+31m..+35m']);
    assert.deepEqual(after(fromStore.calls), mins(31, 35));
    assert.equal(h.slas[0].stats.overflows, 1);
    const warn = records.find((r) => r.msg === 'more slots were missed than are backfilled; the oldest are left out');
    assert.deepEqual({ from: warn?.from, to: warn?.to, max: warn?.max }, { from: '2026-06-01T10:06:00.000Z', to: '2026-06-01T10:30:00.000Z', max: 5 });
    h.set.stop();
  });

  it('no backfill set up: missed slots are skipped, counted and logged once; live ones go on', async () => {
    const dir = tmpDir();
    const { log, records } = captureLog();
    const { clock } = await crashAfter(dir, 5, 30);
    const live = new Script();
    const h = harness([[spec, live]], { dir, log }, T0, clock);
    await h.at(37 * MIN);
    assert.deepEqual(after(live.calls), mins(36, 37));
    assert.equal(h.slas[0].stats.skipped, 30);
    assert.equal(records.filter((r) => r.msg === 'slots missed while the node was down are skipped: no backfill is set up').length, 1);
    h.set.stop();
  });

  it('a backfill that fails: the missed slots count as no data (here: failing), and the error says why', async () => {
    const dir = tmpDir();
    const { log, records } = captureLog();
    const { clock } = await crashAfter(dir, 5, 10);
    const h = harness([[{ ...spec, noData: 'fail' }, new Script()]], { dir, log, backfill: async () => { throw new Error('store unreachable'); } }, T0, clock);
    await h.set.ready();
    assert.deepEqual(h.transitions.map((tr) => `${rel(tr.at - T0)} ${tr.from}→${tr.to}`), ['+6m ok→firing']);
    assert.equal(
      transitionMessage(h.transitions[0], spec),
      'orders-flow firing: no stored data for a missed slot: store unreachable failed; no data counts as failing (missed slot at 2026-06-01T10:06:00.000Z, from stored data)',
    );
    assert.equal(h.set.stats().backfillFailures, 1);
    assert.equal(records.filter((r) => r.msg === 'SLA backfill failed; the missed slots count as unknown').length, 1);
    h.set.stop();
  });
});

const CHILD = path.join(__dirname, 'sla-child.js');

function runChild(job: SlaChildJob, killAfterMs?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: { ready?: boolean }) => {
      if (m.ready && killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (killAfterMs !== undefined ? signal === 'SIGKILL' : code === 0) resolve();
      else reject(new Error(`child exited with ${code ?? signal}`));
    });
  });
}

interface Run {
  start: number;
  evals: Array<{ tag: string; slot: number }>;
}

function readRuns(file: string): Run[] {
  const runs: Run[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(start|l|b) (\d+)$/.exec(line);
    if (!m) continue; // a line a kill cut short
    if (m[1] === 'start') runs.push({ start: Number(m[2]), evals: [] });
    else runs[runs.length - 1].evals.push({ tag: m[1], slot: Number(m[2]) });
  }
  return runs;
}

describe('SLA slots: the watermark across kill -9', function () {
  this.timeout(60_000);

  it('a process evaluating slots killed 5 times: every slot evaluated, none twice but the one in flight at a kill', async () => {
    const dir = tmpDir();
    const file = path.join(tmpDir(), 'evals');
    let start = T0;
    const kills = 5;
    for (let k = 0; k <= kills; k++) {
      const job: SlaChildJob = { dir, file, start };
      if (k === kills) job.until = start + 10 * MIN;
      await runChild(job, k === kills ? undefined : 30 + Math.floor(Math.random() * 200));
      const runs = readRuns(file);
      const last = runs[runs.length - 1].evals.at(-1)?.slot ?? start;
      start = Math.max(start, last) + (3 + Math.floor(Math.random() * 30)) * MIN + 20 * SEC;
    }
    const runs = readRuns(file);
    assert.equal(runs.length, kills + 1);
    const all = runs.flatMap((r) => r.evals.map((e) => e.slot));
    const first = T0 + MIN;
    const lastSlot = Math.max(...all);
    const expected = Array.from({ length: (lastSlot - first) / MIN + 1 }, (_, i) => first + i * MIN);
    assert.deepEqual([...new Set(all)].sort((a, b) => a - b), expected, 'every slot, in order, none skipped');
    // A slot evaluated twice is one a kill caught between its evaluation and its record:
    // the last of a killed run, evaluated again first thing (from stored data) by the next.
    let twice = 0;
    for (let k = 1; k < runs.length; k++) {
      const prev = runs[k - 1].evals.at(-1);
      const next = runs[k].evals[0];
      if (prev && next && prev.slot === next.slot) twice++;
      const later = new Set(runs[k].evals.map((e) => e.slot));
      for (const e of runs[k - 1].evals.slice(0, -1)) assert.ok(!later.has(e.slot), `slot ${e.slot} evaluated again after a restart`);
    }
    if (process.env.SLA_TEST_DEBUG) console.log({ slots: expected.length, twice, perRun: runs.map((r) => r.evals.length) });
    assert.equal(all.length, expected.length + twice);
    assert.ok(twice <= kills);
    // Slots before each restart come from stored data; from the restart on, live.
    for (const r of runs.slice(1)) for (const e of r.evals) assert.equal(e.tag, e.slot < r.start ? 'b' : 'l', `slot ${e.slot} of the run started at ${r.start}`);
    // The log holds a record for every slot, with watermarks that never go back.
    const recs: SlaRecord[] = [];
    const read = (b: Buffer): void => {
      recs.push(JSON.parse(b.toString()) as SlaRecord);
    };
    const log = DurableLog.open({ dir, name: 'sla', what: 'the SLA log' }, { snapshot: read, record: read });
    log.closeSync();
    const marks = recs.map((r) => r.w!);
    for (let i = 1; i < marks.length; i++) assert.ok(marks[i] >= marks[i - 1], 'watermarks never go back');
    for (const s of expected) assert.ok(marks.includes(s), `a record for slot ${s}`);
    // And the states it kept are the ones the outcomes make (a failing minute, `for` 2m: never fires).
    assert.ok(recs.every((r) => r.m.state !== 'firing'));
    assert.ok(expected.filter((s) => !passes(s)).every((s) => recs.some((r) => r.w === s && r.m.state === 'pending')));
  });
});
