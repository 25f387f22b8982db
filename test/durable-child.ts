/**
 * A child process for test/durable-log.test.ts, killed with SIGKILL by the tests. Its job
 * is JSON in argv[2]; records are the decimal numbers 0, 1, 2, ... as text, and a snapshot
 * is one record holding the JSON array of every number appended before it.
 *
 * - append: appends forever (group commit with fdatasync, or appendSync) and reports each
 *   number once it is acknowledged (the report is awaited, so the parent has it first).
 * - compact: appends `count` numbers, then compacts and kills itself with SIGKILL at `step`.
 * - churn: appends with group commit and compacts every 50 records, reporting acks.
 */
import { CompactionStep, DurableLog } from '../src/durable/log';

export type ChildJob =
  | { mode: 'append'; dir: string; sync: boolean; group: boolean }
  | { mode: 'compact'; dir: string; count: number; step: CompactionStep; async: boolean }
  | { mode: 'churn'; dir: string };

const send = (m: unknown): Promise<void> => new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));

function open(dir: string, o: { sync?: boolean; hook?: (step: CompactionStep) => void; segmentBytes?: number } = {}): { log: DurableLog; values: number[] } {
  const values: number[] = [];
  const log = DurableLog.open(
    { dir, name: 'test', what: 'the test log', ...o },
    {
      snapshot: (rec) => values.push(...(JSON.parse(rec.toString()) as number[])),
      record: (rec) => values.push(Number(rec.toString())),
    },
  );
  return { log, values };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as ChildJob;
  if (job.mode === 'append') {
    const { log, values } = open(job.dir, { sync: job.sync, segmentBytes: 4096 });
    await send({ ready: values.length });
    for (let n = values.length; ; n++) {
      if (job.group) {
        // Ten in flight at a time: batches form, and each is reported once it resolves.
        const batch = Array.from({ length: 10 }, (_, i) => log.append(Buffer.from(String(n + i))).then(() => send({ acked: n + i })));
        await Promise.all(batch);
        n += 9;
      } else {
        log.appendSync(Buffer.from(String(n)));
        await send({ acked: n });
      }
    }
  }
  if (job.mode === 'compact') {
    const die = (step: CompactionStep): void => {
      if (step === job.step) process.kill(process.pid, 'SIGKILL');
    };
    const { log, values } = open(job.dir, { hook: die });
    const start = values.length;
    for (let n = start; n < start + job.count; n++) {
      log.appendSync(Buffer.from(String(n)));
      values.push(n);
    }
    const state = [Buffer.from(JSON.stringify(values))];
    if (job.async) await log.compact(() => state);
    else log.compactSync(state);
    await send({ done: true });
    return;
  }
  const { log, values } = open(job.dir, { sync: true });
  await send({ ready: values.length });
  for (let n = values.length; ; n++) {
    await log.append(Buffer.from(String(n)));
    values.push(n);
    await send({ acked: n });
    // The state is taken when the compaction has every write committed: all of values.
    if (n % 50 === 49) void log.compact(() => [Buffer.from(JSON.stringify(values))]).catch((err) => console.error(err));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
