import { strict as assert } from 'node:assert';
import { Deadlines, Timed } from '../src/clock';
import { FakeClock } from './fake-clock';

interface Item extends Timed {
  name: string;
}

const item = (name: string): Item => ({ name, alarm: Infinity, heapIndex: -1 });

describe('deadlines: a lazy timer', () => {
  it('keeps one timer while alarms are set and removed before they are due (a ping answered in time)', async () => {
    for (const lazy of [false, true]) {
      const clock = new FakeClock(0);
      const fired: string[] = [];
      const d = new Deadlines<Item>(clock, (x) => fired.push(x.name), { lazy });
      for (let i = 0; i < 100; i++) {
        const x = item(`p${i}`);
        d.set(x, clock.now() + 800);
        await clock.advance(1);
        d.delete(x);
        await clock.advance(9);
      }
      await clock.advance(2000);
      assert.deepEqual(fired, [], 'no alarm was due');
      if (lazy) assert.ok(clock.set <= 3, `lazy: ${clock.set} timers set for 100 alarms`);
      else assert.equal(clock.set, 100, 'a timer per alarm without lazy');
    }
  });

  it('still fires every alarm at its time, and an earlier alarm re-arms the timer', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    const d = new Deadlines<Item>(clock, (x) => fired.push([x.name, clock.now()]), { lazy: true });
    const late = item('late');
    const early = item('early');
    const gone = item('gone');
    d.set(gone, 100);
    d.set(late, 500);
    d.delete(gone); // the timer for 100 stays armed, fires with nothing due and re-arms for 500
    d.set(early, 300);
    await clock.advance(1000);
    assert.deepEqual(fired, [['early', 300], ['late', 500]]);
    assert.equal(d.size, 0);
    assert.equal(clock.armed, 0, 'no timer left once nothing is waiting');
    const soon = item('soon');
    d.set(late, 2000);
    d.set(soon, 1200); // earlier than the armed timer: re-armed
    await clock.advance(300);
    assert.deepEqual(fired.slice(2), [['soon', 1200]]);
  });
});
