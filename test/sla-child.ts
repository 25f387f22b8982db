/**
 * A child process for test/sla-backfill.test.ts, killed with SIGKILL by the test. It runs
 * a slots SLA (`* * * * *`) with the SLA log in job.dir on a fake clock that starts at
 * job.start and races ahead a minute at a time. Every evaluation is appended to job.file
 * as `l <slot>` (live) or `b <slot>` (backfilled) before the SLA sees its outcome; a run
 * begins with `start <ms>`. With job.until it stops cleanly there; otherwise it runs until
 * it is killed.
 */
import * as fs from 'node:fs';
import { SlaSet, TestEval } from '../src/sla';
import { FakeClock } from './fake-clock';

export interface SlaChildJob {
  dir: string;
  file: string;
  start: number;
  until?: number;
}

const MIN = 60_000;
const send = (m: unknown): Promise<void> => new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));

/** passes is the test's outcome at a slot: every seventh minute fails (state changes to persist). */
export const passes = (slot: number): boolean => Math.floor(slot / MIN) % 7 !== 3;

function evaluator(file: string, tag: string): TestEval {
  return {
    evaluate(at) {
      fs.appendFileSync(file, `${tag} ${at}\n`);
      const v = passes(at);
      return { value: v, message: `orders.new (${v ? 10 : 2}) between 5 and 20` };
    },
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as SlaChildJob;
  fs.appendFileSync(job.file, `start ${job.start}\n`);
  const clock = new FakeClock(job.start);
  const set = new SlaSet({
    clock,
    dir: job.dir,
    compactBytes: 2 ** 30,
    backfill: async (_name, _from, _to) => evaluator(job.file, 'b'),
  });
  set.add({ name: 'orders-flow', mode: 'slots', during: { cron: '* * * * *' }, forMs: 2 * MIN }, evaluator(job.file, 'l'));
  set.start();
  await set.ready();
  await send({ ready: true });
  for (;;) {
    if (job.until !== undefined && clock.now() >= job.until) break;
    await clock.advance(MIN);
  }
  set.stop();
  await send({ done: true });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
