/**
 * Runs ping blocks inside a test namespace (started by test/netns-ping.test.ts with
 * `ip netns exec NS node netns-ping-child.js SPEC`): every block of SPEC once, all at the
 * same time, then prints one JSON line: the run outputs, the shared pinger's counters and
 * the log lines. Not a test file itself.
 *
 * SPEC: {"blocks": [{"name": "a", "options": {"host": "10.0.1.2", "count": 3}}, ...], "waitIdle": false}
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { pingBlock, PingOptions } from '../blocks/ping';
import { IDLE_CLOSE_MS, sharedPinger } from '../blocks/ping/pinger';
import { createMemoryShared } from '../src/shared/memory';

interface Spec {
  blocks: Array<{ name: string; options: Omit<PingOptions, 'name'> }>;
  waitIdle?: boolean;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as Spec;
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level: 'info', base: undefined }, sink);
  const shared = createMemoryShared();
  const started = Date.now();
  const results = await Promise.all(spec.blocks.map(async (b) => {
    const block = pingBlock.create({ name: b.name, ...b.options }, { name: b.name, configDir: '.', dataDir: '.', log, emit: () => undefined });
    const t0 = Date.now();
    const out = await block.run({ signal: new AbortController().signal, log, shared });
    return { name: b.name, ms: Date.now() - t0, ...out };
  }));
  const stats = sharedPinger().stats();
  // With waitIdle, also the counters once the sockets have been idle long enough to close.
  let idle;
  if (spec.waitIdle) {
    await new Promise((r) => setTimeout(r, IDLE_CLOSE_MS + 200));
    idle = sharedPinger().stats();
  }
  process.stdout.write(`${JSON.stringify({ results, stats, idle, logs, ms: Date.now() - started })}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
