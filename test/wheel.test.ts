import assert from 'node:assert/strict';
import { Slotted, Wheel } from '../src/clock/wheel';
import { RunSet, Running } from '../src/engine/runs';
import { FakeClock } from './fake-clock';

interface Item extends Slotted {
  name: string;
}

const item = (name: string): Item => ({ name, armed: false, wheelSeq: 0 });

describe('timer wheel (the scheduler\'s alarms)', () => {
  it('fires each alarm once at its 4 ms slot, never early and less than a step late, in alarm order', async () => {
    const clock = new FakeClock(1000);
    const fired: Array<[string, number]> = [];
    const w = new Wheel<Item>(clock, (it, now) => fired.push([it.name, now]), 4);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item);
    w.set(b, 1003); // slot 1004
    w.set(a, 1001.5); // the same slot, set later but due first
    w.set(c, 1004.5); // slot 1008
    w.set(d, 1020);
    await clock.advance(30);
    assert.deepEqual(fired, [['a', 1004], ['b', 1004], ['c', 1008], ['d', 1020]]);
    for (const [name, at] of fired) {
      const due = { a: 1001.5, b: 1003, c: 1004.5, d: 1020 }[name]!;
      assert.ok(at >= due && at - due < 4, `${name} fired at ${at}, due ${due}`);
    }
  });

  it('moves and removes alarms (a stale slot entry never fires) and holds no timer once empty', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const w = new Wheel<Item>(clock, (it) => fired.push(it.name), 4);
    const a = item('a');
    const b = item('b');
    w.set(a, 10);
    w.set(a, 30); // moved later: its entry in slot 12 is stale
    w.set(b, 20);
    w.delete(b);
    await clock.advance(25);
    assert.deepEqual(fired, []);
    await clock.advance(10);
    assert.deepEqual(fired, ['a']);
    // Nothing is left: no timer keeps a process alive.
    assert.equal(clock.armed, 0);
    w.set(b, 100);
    w.delete(b);
    assert.equal(clock.armed, 0, 'deleting the last alarm clears the timer');
  });

  it('fires again in the same wake-up an alarm its callback set to a time already due', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    let again = true;
    const w = new Wheel<Item>(clock, (it, now) => {
      fired.push(it.name);
      if (again) {
        again = false;
        w.set(it, now - 1);
      }
    }, 4);
    w.set(item('x'), 5);
    await clock.advance(8);
    assert.deepEqual(fired, ['x', 'x']);
    assert.equal(clock.set, 1, 'one timer for both');
  });
});

/** run is a Running that records how it ended. */
function running(log: string[], name: string, work?: Promise<unknown>): Running {
  const r: Running = {
    deadline: 0, workDone: work === undefined, work,
    timeout: () => log.push(`${name} timed out`),
    abort: (reason) => log.push(`${name} aborted: ${reason.message}`),
  };
  void work?.then(() => { r.workDone = true; });
  return r;
}

describe('run set (timeouts, stop, and blocks that outlive their Result)', () => {
  it('times runs out in order under one timer, and not a run that ended', async () => {
    const set = new RunSet();
    const log: string[] = [];
    const a = running(log, 'a');
    const b = running(log, 'b');
    const c = running(log, 'c');
    set.start(a, 30);
    set.start(b, 30);
    set.start(c, 60);
    set.end(b);
    const t0 = Date.now();
    while (log.length < 2 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(log, ['a timed out', 'c timed out']);
    assert.ok(Date.now() - t0 >= 55, 'c waited its 60 ms');
  });

  it('aborts every run at a stop, and idle() waits for a block still working past its Result', async () => {
    const set = new RunSet();
    const log: string[] = [];
    let finish!: () => void;
    const work = new Promise<void>((r) => { finish = r; });
    const slow = running(log, 'slow', work);
    set.start(slow, 10_000);
    set.abortAll(() => new Error('stopping'));
    assert.deepEqual(log, ['slow aborted: stopping']);
    // The run's Result settled (its abort ends it), its block has not.
    set.end(slow);
    let idle = false;
    const waiting = set.idle().then(() => { idle = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(idle, false, 'idle waits for the block');
    finish();
    await work;
    set.settled(slow);
    await waiting;
    assert.equal(idle, true);
    assert.equal(set.size, 0);
  });
});
